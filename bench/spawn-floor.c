/*
 * The floor of one task start, as system calls: for each of N tasks, create
 * its two log files, fork, exec `/bin/sh -c true` with stdout and stderr on
 * them, wait for it, and append one journal line with fdatasync; K tasks at a
 * time. bench/spawn.sh builds it with cc and times it beside wf.
 *
 *   spawn-floor N K DIR [job-shell]
 *
 * With `job-shell`, each task runs under a shell like wf's job shell: a
 * /bin/sh that runs `( exec /bin/sh -c true )` and then writes the exit
 * status, so two shells are exec'd per task, as in wf.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char JOB_SHELL[] =
  "( exec /bin/sh -c \"$1\" 2>&5 5>&- ); s=$?; printf '{\"exited\":\"%s\",\"code\":%d}\\n' \"$2\" \"$s\" >/dev/null; exit $s";

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: spawn-floor N K DIR [job-shell]\n");
    return 2;
  }
  long total = atol(argv[1]), parallel = atol(argv[2]);
  const char *dir = argv[3];
  int job_shell = argc > 4 && strcmp(argv[4], "job-shell") == 0;
  char path[4096];
  snprintf(path, sizeof path, "%s/logs", dir);
  mkdir(path, 0700);
  snprintf(path, sizeof path, "%s/journal.jsonl", dir);
  int journal = open(path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0600);
  if (journal < 0) {
    perror(path);
    return 1;
  }
  long started = 0, running = 0, failed = 0;
  while (started < total || running > 0) {
    while (started < total && running < parallel) {
      char out[4096], err[4096], name[32];
      snprintf(out, sizeof out, "%s/logs/t%ld.1.stdout.log", dir, started);
      snprintf(err, sizeof err, "%s/logs/t%ld.1.stderr.log", dir, started);
      snprintf(name, sizeof name, "t%ld.1.status", started);
      int o = open(out, O_RDWR | O_CREAT | O_APPEND | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
      int e = open(err, O_RDWR | O_CREAT | O_APPEND | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (o < 0 || e < 0) {
        perror("open a log");
        return 1;
      }
      pid_t pid = fork();
      if (pid == 0) {
        setsid();
        int to = job_shell ? 5 : 2;
        dup2(o, 1);
        /* dup2 onto itself keeps close-on-exec: clear it instead. */
        if (e == to) fcntl(e, F_SETFD, 0);
        else dup2(e, to);
        if (job_shell) execl("/bin/sh", "sh", "-c", JOB_SHELL, "wf-job", "true", name, (char *)NULL);
        else execl("/bin/sh", "sh", "-c", "true", (char *)NULL);
        _exit(127);
      }
      if (pid < 0) {
        perror("fork");
        return 1;
      }
      close(o);
      close(e);
      started++;
      running++;
    }
    int status;
    pid_t done = wait(&status);
    if (done < 0) {
      perror("wait");
      return 1;
    }
    running--;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
    char line[256];
    int n = snprintf(line, sizeof line, "{\"v\":1,\"type\":\"task_finished\",\"pid\":%d,\"state\":\"succeeded\",\"exit_code\":0}\n", (int)done);
    if (write(journal, line, n) != n || fdatasync(journal) != 0) {
      perror("journal");
      return 1;
    }
  }
  return failed == 0 ? 0 : 1;
}
