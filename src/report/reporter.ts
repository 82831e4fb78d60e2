/**
 * Reporters are the only code that writes to the terminal. They consume the
 * same records the journal holds, after those are durable, plus task output
 * lines for `--print-output`: they are the engine's event sink.
 */
import type { EventSink } from "../engine/sink.ts";

export type Reporter = EventSink;
