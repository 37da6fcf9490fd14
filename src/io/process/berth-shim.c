/*
 * berth-shim: the process runtime's light shim.
 *
 * One zygote per supervisor reads spawn requests on stdin. For each it forks a
 * monitor (a copy of this small process, so forking is cheap however large the
 * supervisor is). The monitor becomes a child subreaper, starts the requested
 * process as the leader of its own process group, and reaps it and every
 * orphan it leaves. It records the process on disk before telling anyone, in
 * <dir>/<proc>.record, which the supervisor reserved at its full size (two
 * RECORD_LINE-byte lines, space-padded) with the request's generation in it:
 *
 *   "<gen> <pid> <starttime> <monitor pid> <monitor starttime> <boot ns>"   started
 *   "<gen> <code> <signal> <unix ms> <boot ns>"   exited (code -1 when killed by <signal>)
 *
 * Both are written in place (pwrite), so recording an exit never needs a new
 * disk block. A monitor whose record was reserved anew for a retried start
 * writes into the replaced file, which nobody reads: records are tied to one
 * attempt, never to a name alone. Boot-clock times order an exec's start
 * against its init's exit. Then it reports on stdout, one line per write
 * (atomic on a pipe):
 *
 *   S <req> <pid> <monitor pid> <ms> <starttime> <monitor starttime>   started (at unix ms)
 *   F <req> <errno> <message>           could not start
 *   X <req> <code> <signal> <unix ms>   exited
 *
 * Monitors outlive the supervisor and the zygote: if nobody reads stdout any
 * more, the record still holds the truth. Nothing new starts once the supervisor
 * is gone (its end of stdout closed): a request left in the pipe is dropped, and
 * a monitor whose record was removed (its start timed out) ends what it started.
 * SIGTERM to a monitor SIGKILLs everything it reaps; an init monitor (request
 * kind I) does so by itself when its process ends, as the kernel does when a PID
 * namespace's init dies, before it records the exit.
 *
 * A job can stop or kill its own monitor (it is the job's parent, of the same
 * uid). The zygote continues a monitor that stops. It is a child subreaper, so
 * the orphans of its monitors come to it, and it SIGKILLs them. Monitors get no parent-death signal, so containers outlive the
 * supervisor and the zygote; the orphans of a monitor killed while its zygote is
 * gone go to the system's reaper and live on (a cgroup per container would
 * hold them).
 *
 * The zygote also launches programs that report on a sync pipe (conmon's
 * `_OCI_SYNCPIPE`): a helper holds the pipe's read end for as long as the
 * program keeps its write end, so the program never dies of SIGPIPE because the
 * supervisor did. It reports:
 *
 *   P <req> <pid>                       the program runs (in a process group of its own)
 *   C <req> <first message, one line>   what it said first
 *
 * A request is a run of NUL-terminated fields:
 *   kind (S: spawn and monitor, I: the same for an init, C: launch with a held sync
 *   pipe), req, dir, proc, gen, cwd, argc, argv..., envc, env...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct request {
  char *req, *dir, *proc, *gen, *cwd;
  char **argv, **envp;
  int init;
};

#define RECORD_LINE 128

static void reset_signals(void);
/* The umask berth runs with, given back to the programs it starts; the shim itself and conmon create owner-only files. */
static mode_t inherited_umask;

static void say(const char *line) {
  size_t len = strlen(line), off = 0;
  while (off < len) {
    ssize_t n = write(STDOUT_FILENO, line + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return; /* the supervisor is gone: the files on disk speak for us */
    off += (size_t)n;
  }
}

/* Reports that request `req` failed: its errno (0 if none) and why, as an F line. */
static void say_failed(const char *req, int err, const char *why) {
  char line[512];
  snprintf(line, sizeof line, "F %s %d %s\n", req, err, why);
  say(line);
}

/* Field 22 of /proc/<pid>/stat: start time in clock ticks since boot; tells a reused pid apart. */
static unsigned long long start_time(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p) return 0;
  /* after ") " come fields 3..; starttime is field 22 */
  int field = 2;
  for (; *p && field < 22; p++)
    if (*p == ' ') field++;
  return strtoull(p, NULL, 10);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Nanoseconds since boot, suspend included: orders events across processes of one machine. */
static long long boot_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The supervisor closed its end of our stdout (it died, or closed us): it can no longer learn of a start. */
static int supervisor_gone(void) {
  struct pollfd p = {.fd = STDOUT_FILENO, .events = 0, .revents = 0};
  return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

/* Opens the record the supervisor reserved for this very request (same generation), or -1. */
static int open_record(const struct request *r) {
  char path[4096], head[RECORD_LINE + 1];
  snprintf(path, sizeof path, "%s/%s.record", r->dir, r->proc);
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = pread(fd, head, RECORD_LINE, 0);
  size_t gen_len = strlen(r->gen);
  if (n == RECORD_LINE && strncmp(head, r->gen, gen_len) == 0 && head[gen_len] == ' ') return fd;
  close(fd);
  errno = ESTALE;
  return -1;
}

/* Writes line `index` of the record in place: space-padded to its reserved size, so no block is allocated. */
static void write_record_line(int fd, int index, const char *text) {
  char line[RECORD_LINE];
  memset(line, ' ', sizeof line);
  memcpy(line, text, strnlen(text, RECORD_LINE - 1));
  line[RECORD_LINE - 1] = '\n';
  (void)!pwrite(fd, line, sizeof line, (off_t)index * RECORD_LINE);
}

/* The leader a monitor started, and its wait status once reaped (whoever reaped it). */
static pid_t leader;
static int leader_status, leader_reaped;

/* Reaps one child (waitpid's flags); the leader's status is kept for its record. */
static pid_t reap(int flags) {
  int status;
  pid_t got = waitpid(-1, &status, flags);
  if (got > 0 && got == leader) {
    leader_status = status;
    leader_reaped = 1;
  }
  return got;
}

/* Reaps children: every one left (flags 0), or those already ended (WNOHANG). */
static void reap_while(int flags) {
  for (;;) {
    pid_t got = reap(flags);
    if (got <= 0 && !(got < 0 && errno == EINTR)) return;
  }
}

/*
 * Calls `visit` for every child of this process. A child's pid cannot be
 * reused before its parent reaps it, so a child seen here is still that process
 * when we signal it. The kernel's list of our children is read when it has one
 * (CONFIG_PROC_CHILDREN); otherwise every process in /proc is looked at.
 */
static void each_running_child(void (*visit)(pid_t)) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
  FILE *children = fopen(path, "re");
  if (children) {
    long pid;
    while (fscanf(children, "%ld", &pid) == 1) visit((pid_t)pid);
    fclose(children);
    return;
  }
  DIR *proc = opendir("/proc");
  if (!proc) return;
  struct dirent *entry;
  pid_t self = getpid();
  while ((entry = readdir(proc))) {
    char stat_path[300], buf[512], state;
    int ppid;
    pid_t pid = (pid_t)strtol(entry->d_name, NULL, 10);
    if (pid <= 0) continue;
    snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", (int)pid);
    int fd = open(stat_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    char *p = n > 0 ? (buf[n] = 0, strrchr(buf, ')')) : NULL;
    if (!p || p[1] != ' ' || sscanf(p + 2, "%c %d", &state, &ppid) != 2) continue;
    if (ppid == self && state != 'Z' && state != 'X') visit(pid);
  }
  closedir(proc);
}

static int killed;
static void kill_child(pid_t pid) {
  kill(pid, SIGKILL);
  killed++;
}

/*
 * SIGKILLs every process this monitor reaps: its descendants, including those
 * that left the process group with setsid. Only our own children are signalled
 * (nobody else can reap them, so no pid is a stranger's); a grandchild becomes
 * our child when its parent dies (we are its subreaper), and is killed in the
 * next round. Between rounds we wait for a child to end, and reap it.
 */
static void kill_tree(void) {
  for (;;) {
    killed = 0;
    each_running_child(kill_child);
    if (!killed) return;
    while (reap(0) < 0 && errno == EINTR) {
    }
    reap_while(WNOHANG);
  }
}

static volatile sig_atomic_t end_requested;
static void on_term(int sig) {
  (void)sig;
  end_requested = 1;
}
static void on_child(int sig) { (void)sig; }

/* A forked helper's set-up: it reaps its own child, ignores a gone reader, and gets a pipe to it (or reports why not, and ends). */
static void helper_pipe(const struct request *r, int fds[2]) {
  signal(SIGCHLD, SIG_DFL);
  signal(SIGPIPE, SIG_IGN);
  if (pipe2(fds, O_CLOEXEC) == 0) return;
  char line[512];
  snprintf(line, sizeof line, "F %s %d %s\n", r->req, errno, strerror(errno));
  say(line);
  _exit(1);
}

/*
 * A container's cgroup: its directories (one per hierarchy) are listed in
 * <dir>/cgroups, one a line, when it has one. A process joins them in its
 * forked child, before it changes identity and execs, so its limits hold from
 * its first instruction while its monitor stays outside them (the monitor's
 * own memory and forks never count against the container).
 */
static FILE *open_cgroups(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/cgroups", dir);
  return fopen(path, "re");
}

/* Reads the next cgroup dir of the list into `line`; 0 at its end. */
static int next_cgroup(FILE *list, char *line, size_t size) {
  while (fgets(line, (int)size, list)) {
    line[strcspn(line, "\n")] = 0;
    if (*line) return 1;
  }
  return 0;
}

static int write_cgroup_file(const char *cgroup, const char *file, const char *value) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s", cgroup, file) >= (int)sizeof path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, value, strlen(value));
  int err = errno;
  close(fd);
  errno = err;
  return n < 0 ? -1 : 0;
}

/* In the forked child: joins the container's cgroup, if it has one (-1 with errno if it cannot: it must not run unlimited). */
static int join_cgroups(const char *dir) {
  FILE *list = open_cgroups(dir);
  if (!list) return errno == ENOENT ? 0 : -1;
  char line[4096], pid[32];
  snprintf(pid, sizeof pid, "%d", (int)getpid());
  int result = 0;
  while (result == 0 && next_cgroup(list, line, sizeof line)) result = write_cgroup_file(line, "cgroup.procs", pid);
  fclose(list);
  return result;
}

static void pause_ms(long ms) {
  struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};
  nanosleep(&ts, NULL);
}

/* Whether a cgroup file holds `text` (freezer.state FROZEN, cgroup.events "populated 0"); "" asks whether it exists at all. */
static int cgroup_file_says(const char *cgroup, const char *file, const char *text) {
  char path[4096], buf[4096];
  if (snprintf(path, sizeof path, "%s/%s", cgroup, file) >= (int)sizeof path) return 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n > 0 ? n : 0] = 0;
  return strstr(buf, text) != NULL;
}

/* Freezes (or thaws) a cgroup (v1 freezer.state, v2 cgroup.freeze) and waits, boundedly, until it has settled. */
static void set_frozen(const char *cgroup, int frozen) {
  int v1 = cgroup_file_says(cgroup, "freezer.state", "");
  for (int tries = 0; tries < 1000; tries++) {
    /* Written again while it settles: a process forked meanwhile can leave it FREEZING. */
    if (v1) write_cgroup_file(cgroup, "freezer.state", frozen ? "FROZEN" : "THAWED");
    else write_cgroup_file(cgroup, "cgroup.freeze", frozen ? "1" : "0");
    if (v1 ? cgroup_file_says(cgroup, "freezer.state", frozen ? "FROZEN" : "THAWED")
           : cgroup_file_says(cgroup, "cgroup.events", frozen ? "frozen 1" : "frozen 0"))
      return;
    pause_ms(1);
  }
}

/* SIGKILLs every process listed in a cgroup's cgroup.procs; how many there were. */
static int kill_cgroup_procs(const char *cgroup) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/cgroup.procs", cgroup) >= (int)sizeof path) return 0;
  FILE *procs = fopen(path, "re");
  if (!procs) return 0;
  long pid;
  int count = 0;
  while (fscanf(procs, "%ld", &pid) == 1) {
    kill((pid_t)pid, SIGKILL);
    count++;
  }
  fclose(procs);
  return count;
}

#define MAX_CGROUP_DIRS 8

/*
 * When init ends: kills everything left in the container's cgroup, what left
 * this monitor's reach (a process whose own monitor was killed) included, so
 * that nothing of the container outlives the exit this monitor records. With
 * cgroup.kill (v2) the kernel does it; otherwise as `runc kill --all` does:
 * freeze, SIGKILL every pid (frozen, none can exit and hand its pid on), thaw,
 * until the cgroup is empty. Bounded (about 5 s): a process stuck in the kernel
 * cannot keep the exit from being recorded forever.
 */
static void empty_cgroups(const char *dir) {
  FILE *list = open_cgroups(dir);
  if (!list) return;
  static char cgroups[MAX_CGROUP_DIRS][4096];
  int count = 0, freezer = 0, killer = -1;
  while (count < MAX_CGROUP_DIRS && next_cgroup(list, cgroups[count], sizeof cgroups[count])) {
    if (cgroup_file_says(cgroups[count], "freezer.state", "")) freezer = count;
    if (cgroup_file_says(cgroups[count], "cgroup.kill", "")) killer = count;
    count++;
  }
  fclose(list);
  for (long long deadline = boot_ns() + 5000000000LL; count > 0 && boot_ns() < deadline;) {
    int left = 0;
    if (killer >= 0) {
      write_cgroup_file(cgroups[killer], "cgroup.kill", "1");
      left = !cgroup_file_says(cgroups[killer], "cgroup.events", "populated 0");
    } else {
      set_frozen(cgroups[freezer], 1);
      for (int i = 0; i < count; i++) left += kill_cgroup_procs(cgroups[i]);
      set_frozen(cgroups[freezer], 0);
    }
    if (!left) return;
    reap_while(WNOHANG); /* those that were ours come to us: reaped, they are gone */
    pause_ms(1);
  }
}

/* In the forked child: become the process the request describes, or report why not on errfd. */
static void become(const struct request *r, int errfd) {
  reset_signals();
  setpgid(0, 0);
  if (join_cgroups(r->dir) != 0) goto fail;
  char log[4096];
  snprintf(log, sizeof log, "%s/%s.log", r->dir, r->proc);
  int out = open(log, O_WRONLY | O_APPEND | O_CREAT, 0600);
  int in = open("/dev/null", O_RDONLY);
  if (out < 0 || in < 0 || chdir(r->cwd) != 0) goto fail;
  dup2(in, STDIN_FILENO);
  dup2(out, STDOUT_FILENO);
  dup2(out, STDERR_FILENO);
  if (in > STDERR_FILENO) close(in);
  if (out > STDERR_FILENO) close(out);
  umask(inherited_umask);
  environ = r->envp; /* so execvp searches the process's own PATH */
  execvp(r->argv[0], r->argv);
fail:;
  int err = errno;
  (void)!write(errfd, &err, sizeof err);
  _exit(127);
}

/* The monitor: start the process, then reap until nothing is left, recording its exit. */
static void monitor(struct request *r) {
  char line[512];
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int record = open_record(r);
  if (record < 0) {
    say_failed(r->req, errno, "its start was superseded (the record was reserved anew)");
    _exit(1);
  }
  /* SIGTERM and SIGCHLD are taken only in sigsuspend below, so neither is missed between checks. */
  sigset_t blocked, none;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGCHLD);
  sigprocmask(SIG_BLOCK, &blocked, &none);
  sigdelset(&none, SIGTERM);
  sigdelset(&none, SIGCHLD);
  int fds[2];
  helper_pipe(r, fds);
  struct sigaction term = {.sa_handler = on_term}, child = {.sa_handler = on_child};
  sigaction(SIGTERM, &term, NULL);
  sigaction(SIGCHLD, &child, NULL); /* not ignored: sigsuspend must wake when a child ends */
  if (supervisor_gone()) {
    say_failed(r->req, ECANCELED, "the supervisor is gone");
    _exit(1);
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    become(r, fds[1]);
  }
  long long forked = boot_ns();
  close(fds[1]);
  int err = 0;
  ssize_t n = pid < 0 ? -1 : read(fds[0], &err, sizeof err);
  close(fds[0]);
  leader = pid;
  if (pid < 0 || n > 0) {
    if (pid < 0) err = errno;
    else waitpid(pid, NULL, 0);
    say_failed(r->req, err, strerror(err));
    _exit(1);
  }
  unsigned long long started = start_time(pid), self = start_time(getpid());
  snprintf(line, sizeof line, "%s %d %llu %d %llu %lld", r->gen, (int)pid, started, (int)getpid(), self, forked);
  write_record_line(record, 0, line);

  /* A start that timed out is given up: its record unlinked. Whatever this one started must not run on. */
  struct stat record_stat;
  if (fstat(record, &record_stat) == 0 && record_stat.st_nlink == 0) {
    kill_tree();
    reap_while(0);
    say_failed(r->req, ECANCELED, "its start was given up (the record was removed)");
    _exit(1);
  }
  snprintf(line, sizeof line, "S %s %d %d %lld %llu %llu\n", r->req, (int)pid, (int)getpid(), now_ms(), started, self);
  say(line);

  int ending = 0, recorded = 0;
  for (;;) {
    pid_t got = reap(WNOHANG);
    int err = errno;
    if (leader_reaped && !recorded) {
      /* Nothing of a container outlives its init, nor of a process told to end: its exit is recorded once all of it is gone. */
      if (r->init || ending) {
        kill_tree();
        if (r->init) empty_cgroups(r->dir);
        reap_while(0);
      }
      int code = WIFEXITED(leader_status) ? WEXITSTATUS(leader_status) : -1;
      int sig = WIFSIGNALED(leader_status) ? WTERMSIG(leader_status) : 0;
      long long at = now_ms();
      snprintf(line, sizeof line, "%s %d %d %lld %lld", r->gen, code, sig, at, boot_ns());
      write_record_line(record, 1, line);
      snprintf(line, sizeof line, "X %s %d %d %lld\n", r->req, code, sig, at);
      say(line);
      recorded = 1;
    }
    if (got > 0) continue; /* an orphan of the tree: reaped, nothing to record */
    if (got < 0 && err == ECHILD) break;
    if (end_requested) {
      end_requested = 0;
      ending = 1;
      kill_tree();
      continue;
    }
    sigsuspend(&none);
  }
  _exit(0);
}

/* Resets what a forked child inherited from the zygote before it execs. */
static void reset_signals(void) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
}

/* The helper of a C request: start the program with the sync pipe's write end as fd 3, pass on its first message, drain the rest. */
static void launch_synced(struct request *r) {
  char line[4096];
  int fds[2];
  helper_pipe(r, fds);
  pid_t pid = fork();
  if (pid == 0) {
    /* As a monitor does before it forks: a launch its supervisor can no longer learn of is not made. */
    if (supervisor_gone()) _exit(1);
    reset_signals();
    setpgid(0, 0);
    int null = open("/dev/null", O_RDWR);
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    dup2(fds[1], 3); /* dup2 clears close-on-exec on the copy */
    /* The request's cwd: a program that drops files in its cwd (conmon's `oom`) must not drop them in ours. */
    if (chdir(r->cwd) != 0) _exit(127);
    environ = r->envp;
    execvp(r->argv[0], r->argv);
    _exit(127);
  }
  close(fds[1]);
  if (pid < 0) {
    say_failed(r->req, errno, strerror(errno));
    _exit(1);
  }
  /* A program that daemonises (conmon) leaves its daemon to us, not to the zygote, which kills what it is left. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  snprintf(line, sizeof line, "P %s %d\n", r->req, (int)pid);
  say(line);
  char message[3800];
  size_t n = 0;
  int reported = 0;
  for (;;) {
    ssize_t got = read(fds[0], message + n, sizeof message - 1 - n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    if (reported) continue; /* later messages (an exec's exit status) are drained, not needed */
    n += (size_t)got;
    message[n] = 0;
    char *end = strchr(message, '}');
    if (!end && n < sizeof message - 1) continue;
    if (end) end[1] = 0;
    for (char *c = message; *c; c++)
      if (*c == '\n') *c = ' ';
    snprintf(line, sizeof line, "C %s %s\n", r->req, message);
    say(line);
    reported = 1;
  }
  if (!reported) say_failed(r->req, 0, "exited without reporting on its sync pipe");
  reap_while(0); /* the daemon too: we stay while it runs */
  _exit(0);
}

/*
 * The zygote's own children: its monitors and sync helpers. It is a child
 * subreaper, so the orphans of a monitor that died (killed by its own job)
 * come to it: it SIGKILLs every child that is not one of its own, as their
 * monitor would have, and reaps them all.
 */
static pid_t *own;
static size_t own_count, own_cap;

static void add_own(pid_t pid) {
  if (own_count == own_cap) {
    own_cap = own_cap ? own_cap * 2 : 64;
    own = realloc(own, own_cap * sizeof *own);
    if (!own) exit(1);
  }
  own[own_count++] = pid;
}

static void kill_stranger(pid_t pid) {
  for (size_t i = 0; i < own_count; i++)
    if (own[i] == pid) return;
  kill(pid, SIGKILL);
}

/*
 * Continues a monitor its job stopped (even before it reported the start),
 * reaps the children that ended and, if one was killed or failed, kills the
 * orphans (and theirs) that came to us.
 */
static void tend_children(void) {
  int orphans_possible = 0;
  for (;;) {
    int status;
    pid_t got = waitpid(-1, &status, WNOHANG | WUNTRACED);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    if (WIFSTOPPED(status)) {
      kill(got, SIGCONT);
      continue;
    }
    /* A monitor or helper that ended by itself had reaped all of its own first: only one that was killed, or failed, leaves orphans. */
    if (WIFSIGNALED(status) || WEXITSTATUS(status) != 0) orphans_possible = 1;
    for (size_t i = 0; i < own_count; i++)
      if (own[i] == got) {
        own[i] = own[--own_count];
        break;
      }
  }
  if (orphans_possible) each_running_child(kill_stranger);
}

/* Waits until stdin has bytes (or its end), tending children whenever one ends. */
static void wait_for_input(void) {
  sigset_t unblocked;
  sigprocmask(SIG_SETMASK, NULL, &unblocked);
  sigdelset(&unblocked, SIGCHLD);
  struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN, .revents = 0};
  for (;;) {
    tend_children();
    if (ppoll(&p, 1, NULL, &unblocked) >= 0 || errno != EINTR) return;
  }
}

/* Reads NUL-terminated fields from stdin, one request at a time. */
static char *buf;
static size_t len, cap, pos;

static char *field(void) {
  for (;;) {
    char *end = memchr(buf + pos, 0, len - pos);
    if (end) {
      char *f = buf + pos;
      pos = (size_t)(end - buf) + 1;
      return f;
    }
    if (len == cap) {
      cap = cap ? cap * 2 : 65536;
      buf = realloc(buf, cap);
      if (!buf) exit(1);
    }
    wait_for_input();
    ssize_t n = read(STDIN_FILENO, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) exit(0); /* the supervisor closed our stdin: no more requests */
    len += (size_t)n;
  }
}

/* Fields are pointers into buf, which may move as it grows: keep offsets until the request is whole. */
static void fields(size_t count, size_t *offsets) {
  for (size_t i = 0; i < count; i++) offsets[i] = (size_t)(field() - buf);
}

int main(int argc, char **argv) {
  if (argc != 2 || strcmp(argv[1], "zygote") != 0) {
    fprintf(stderr, "usage: berth-shim zygote   (started by berth's process runtime)\n");
    return 2;
  }
  inherited_umask = umask(077);
  /* SIGCHLD is taken only while waiting for input (ppoll), where children are tended. */
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  sigprocmask(SIG_BLOCK, &child, NULL);
  struct sigaction on_chld = {.sa_handler = on_child};
  sigaction(SIGCHLD, &on_chld, NULL);
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* requests left in the pipe of a dead supervisor are never carried out */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  for (;;) {
    /* compact the buffer between requests */
    if (pos > 0) {
      memmove(buf, buf + pos, len - pos);
      len -= pos;
      pos = 0;
    }
    size_t head[7];
    fields(7, head); /* kind, req, dir, proc, gen, cwd, argc */
    size_t nargs = strtoul(buf + head[6], NULL, 10);
    size_t *argo = calloc(nargs + 1, sizeof *argo);
    fields(nargs, argo);
    size_t envc_off;
    fields(1, &envc_off);
    size_t nenv = strtoul(buf + envc_off, NULL, 10);
    size_t *envo = calloc(nenv + 1, sizeof *envo);
    fields(nenv, envo);

    int synced = buf[head[0]] == 'C';
    struct request r = {buf + head[1], buf + head[2], buf + head[3], buf + head[4], buf + head[5], NULL, NULL, buf[head[0]] == 'I'};
    r.argv = calloc(nargs + 1, sizeof *r.argv);
    r.envp = calloc(nenv + 1, sizeof *r.envp);
    for (size_t i = 0; i < nargs; i++) r.argv[i] = buf + argo[i];
    for (size_t i = 0; i < nenv; i++) r.envp[i] = buf + envo[i];
    if (nargs == 0) {
      say_failed(r.req, EINVAL, "no command");
    } else if (supervisor_gone()) {
      exit(0); /* checked again by the monitor right before its fork */
    } else {
      pid_t m = fork();
      if (m == 0) {
        close(STDIN_FILENO);
        open("/dev/null", O_RDONLY);
        if (synced) launch_synced(&r);
        monitor(&r);
      } else if (m < 0) {
        say_failed(r.req, errno, strerror(errno));
      } else {
        add_own(m);
      }
    }
    free(argo);
    free(envo);
    free(r.argv);
    free(r.envp);
  }
}
