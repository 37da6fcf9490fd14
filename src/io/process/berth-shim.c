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
 *   pipe), req, dir, proc, gen, cwd, argc, argv..., envc, env..., user, rlimits
 * where user is empty or "<uid> <gid> [<gid>...]" (the last ones supplementary),
 * and rlimits is empty or "<RLIMIT_NAME> <soft> <hard> ...", each limit decimal or
 * "unlimited". The forked process sets the rlimits, then its groups, gid and uid,
 * and only then execs; the monitor stays root, so it can still record the exit
 * and kill the tree (and the job can no longer stop or kill it). A value out of
 * range is refused (F ... EINVAL) before anything is forked.
 *
 * `berth-shim start-created <exec.fifo> <init pid> <its start time, 0 if unknown>` starts a container runc has
 * created, as `runc start` does but without runc's own start-up (see
 * start_created below); the runc runtime launches it with a C request.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct limit {
  int resource;
  const char *name;
  struct rlimit value;
};

static const struct limit LIMIT_NAMES[] = {
    {RLIMIT_AS, "RLIMIT_AS", {0, 0}},           {RLIMIT_CORE, "RLIMIT_CORE", {0, 0}},
    {RLIMIT_CPU, "RLIMIT_CPU", {0, 0}},         {RLIMIT_DATA, "RLIMIT_DATA", {0, 0}},
    {RLIMIT_FSIZE, "RLIMIT_FSIZE", {0, 0}},     {RLIMIT_LOCKS, "RLIMIT_LOCKS", {0, 0}},
    {RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK", {0, 0}}, {RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", {0, 0}},
    {RLIMIT_NICE, "RLIMIT_NICE", {0, 0}},       {RLIMIT_NOFILE, "RLIMIT_NOFILE", {0, 0}},
    {RLIMIT_NPROC, "RLIMIT_NPROC", {0, 0}},     {RLIMIT_RSS, "RLIMIT_RSS", {0, 0}},
    {RLIMIT_RTPRIO, "RLIMIT_RTPRIO", {0, 0}},   {RLIMIT_RTTIME, "RLIMIT_RTTIME", {0, 0}},
    {RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING", {0, 0}}, {RLIMIT_STACK, "RLIMIT_STACK", {0, 0}},
};
#define LIMIT_COUNT (sizeof LIMIT_NAMES / sizeof LIMIT_NAMES[0])

struct request {
  char *req, *dir, *proc, *gen, *cwd;
  char **argv, **envp;
  int init;
  /* Who the process runs as, when has_user: groups holds its ngroups supplementary gids. */
  int has_user;
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t ngroups;
  struct limit limits[LIMIT_COUNT];
  size_t nlimits;
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

/* Why a forked process could not become the requested one: errno, and the step that failed (empty for open, chdir, exec). */
struct start_failure {
  int err;
  char step[64];
};

static void start_failed(int errfd, const char *step) {
  struct start_failure failure = {.err = errno, .step = {0}};
  snprintf(failure.step, sizeof failure.step, "%s", step);
  (void)!write(errfd, &failure, sizeof failure);
  _exit(127);
}

/* Limits first (raising a hard one needs root), then groups, gid and uid, in the only order that can drop root. */
static void take_identity(const struct request *r, int errfd) {
  for (size_t i = 0; i < r->nlimits; i++) {
    if (setrlimit(r->limits[i].resource, &r->limits[i].value) != 0) {
      int err = errno;
      char step[64];
      snprintf(step, sizeof step, "setrlimit %s", r->limits[i].name);
      errno = err;
      start_failed(errfd, step);
    }
  }
  if (!r->has_user) return;
  if (setgroups(r->ngroups, r->groups) != 0) start_failed(errfd, "setgroups");
  if (setgid(r->gid) != 0) start_failed(errfd, "setgid");
  if (setuid(r->uid) != 0) start_failed(errfd, "setuid");
}

/*
 * Bounded logs. A container created with `logs: { maxBytes, keep }` has them in
 * <dir>/log-limits ("<maxBytes> <keep>"). Its processes then write to a pipe,
 * and their monitor copies what they write to <proc>.log; once that holds
 * maxBytes, it is renamed <proc>.log.<start> (start: the total offset of its
 * first byte), a fresh <proc>.log is begun and the rotated files beyond the
 * newest `keep` are removed (the layout log-generations.ts reads). The monitor
 * rotates, so rotation goes on whatever becomes of the supervisor. Without
 * limits a process writes <proc>.log itself, as it always did.
 */
static struct {
  int in, out;   /* the pipe: the monitor reads `in`, the process gets `out`; -1 when there is no relay (or no writer is left) */
  int fd;        /* the current <proc>.log */
  int renamed;   /* it was renamed away, but no fresh file could be opened yet */
  int prune_pending; /* rotated files beyond `keep` wait for a reader (see lowest_hold) */
  int keep;
  long long max_bytes, start, size;
  char dir[4096], base[512], path[4700];
} relay = {.in = -1, .out = -1, .fd = -1};

/* The starts of the rotated files <base>.<digits>, newest first, into *starts (malloc'd); their number. */
static int newest_first(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return (x < y) - (x > y);
}
static size_t rotated_starts(long long **starts) {
  size_t count = 0, cap = 0, base_len = strlen(relay.base);
  *starts = NULL;
  DIR *d = opendir(relay.dir);
  if (!d) return 0;
  struct dirent *entry;
  while ((entry = readdir(d))) {
    const char *name = entry->d_name, *digits = name + base_len + 1;
    if (strncmp(name, relay.base, base_len) != 0 || name[base_len] != '.' || !*digits || strspn(digits, "0123456789") != strlen(digits)) continue;
    if (count == cap) {
      long long *grown = realloc(*starts, (cap = cap ? cap * 2 : 16) * sizeof **starts);
      if (!grown) break;
      *starts = grown;
    }
    (*starts)[count++] = strtoll(digits, NULL, 10);
  }
  closedir(d);
  qsort(*starts, count, sizeof **starts, newest_first);
  return count;
}

static void rotated_path(char *out, size_t size, long long start) {
  snprintf(out, size, "%s.%lld", relay.path, start);
}

/*
 * Readers that follow the log say which total offset they still need in a hold
 * file, <base>.hold-<pid>-<n> (see process-log.ts). A rotated file a live reader
 * still needs is not removed, and meanwhile nothing more is copied (the process
 * waits, as it would for a slow terminal), for as long as the reader moves on
 * at least once every HOLD_PATIENCE_MS; a reader stuck longer loses the file
 * and is told so (output-lost). Holds of readers that are gone are removed.
 */
#define HOLD_PATIENCE_MS 5000
static long long hold_seen = -1, hold_blocked_since;

static long long lowest_hold(void) {
  char prefix[600], path[4800], text[32];
  snprintf(prefix, sizeof prefix, "%s.hold-", relay.base);
  size_t prefix_len = strlen(prefix);
  long long lowest = -1;
  DIR *d = opendir(relay.dir);
  if (!d) return -1;
  struct dirent *entry;
  while ((entry = readdir(d))) {
    if (strncmp(entry->d_name, prefix, prefix_len) != 0) continue;
    snprintf(path, sizeof path, "%s/%s", relay.dir, entry->d_name);
    pid_t reader = (pid_t)strtol(entry->d_name + prefix_len, NULL, 10);
    if (reader <= 0 || (kill(reader, 0) != 0 && errno == ESRCH)) {
      unlink(path);
      continue;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
    if (fd >= 0) close(fd);
    text[n > 0 ? n : 0] = 0;
    long long needed = strtoll(text, NULL, 10); /* 0 (all of it) while the reader is rewriting it */
    if (lowest < 0 || needed < lowest) lowest = needed;
  }
  closedir(d);
  return lowest;
}

/*
 * Removes the rotated files older than the newest `keep`, unless a live reader
 * still needs one (then 0: try again later). The newest of those ends where the
 * one after it starts.
 */
static int prune_rotated(void) {
  long long *starts;
  size_t count = rotated_starts(&starts);
  int pruned = 1;
  if (count > (size_t)relay.keep) {
    long long hold = lowest_hold(), now = now_ms();
    if (hold != hold_seen) {
      hold_seen = hold;
      hold_blocked_since = now;
    }
    pruned = hold < 0 || hold >= starts[relay.keep - 1] || now - hold_blocked_since > HOLD_PATIENCE_MS;
    char path[4800];
    for (size_t i = (size_t)relay.keep; pruned && i < count; i++) {
      rotated_path(path, sizeof path, starts[i]);
      unlink(path);
    }
  }
  free(starts);
  relay.prune_pending = !pruned;
  return pruned;
}

/* Reads <dir>/log-limits and, if there are limits, sets up the relay, going on from what is on disk already. */
static void relay_open(const struct request *r) {
  char limits[4200];
  snprintf(limits, sizeof limits, "%s/log-limits", r->dir);
  FILE *f = fopen(limits, "re");
  if (!f) return;
  int found = fscanf(f, "%lld %d", &relay.max_bytes, &relay.keep);
  fclose(f);
  if (found != 2 || relay.max_bytes <= 0 || relay.keep < 1) return;
  snprintf(relay.dir, sizeof relay.dir, "%s", r->dir);
  snprintf(relay.base, sizeof relay.base, "%s.log", r->proc);
  snprintf(relay.path, sizeof relay.path, "%s/%s", relay.dir, relay.base);
  long long *starts;
  char newest[4800];
  struct stat info;
  if (rotated_starts(&starts) > 0) {
    rotated_path(newest, sizeof newest, starts[0]);
    relay.start = starts[0] + (stat(newest, &info) == 0 ? info.st_size : 0);
  }
  free(starts);
  relay.fd = open(relay.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  int fds[2];
  if (relay.fd < 0 || fstat(relay.fd, &info) != 0 || pipe2(fds, O_CLOEXEC) != 0) {
    if (relay.fd >= 0) close(relay.fd); /* unbounded then: the process writes its log itself */
    relay.fd = -1;
    return;
  }
  relay.size = info.st_size;
  relay.in = fds[0];
  relay.out = fds[1];
  fcntl(relay.in, F_SETFL, O_NONBLOCK);
}

/* In the child: where its stdout and stderr go, the relay's pipe or the log itself. */
static int open_output(const char *log) {
  return relay.out >= 0 ? relay.out : open(log, O_WRONLY | O_APPEND | O_CREAT, 0600);
}

/* Renames the full log to its start and begins a fresh one; a step that fails is tried again at the next write. */
static void rotate_log(void) {
  char rotated[4800];
  rotated_path(rotated, sizeof rotated, relay.start);
  if (!relay.renamed && rename(relay.path, rotated) != 0) return;
  relay.renamed = 1;
  int fd = open(relay.path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return; /* meanwhile the renamed file goes on growing: readers take it as the current one */
  close(relay.fd);
  relay.fd = fd;
  relay.start += relay.size;
  relay.size = 0;
  relay.renamed = 0;
  prune_rotated();
}

/* Appends to the log, rotating it at maxBytes. What a full disk refuses is dropped: the process is never held up. */
static void log_write(const char *buf, size_t n) {
  while (n > 0) {
    if (relay.size >= relay.max_bytes) rotate_log();
    size_t room = relay.size < relay.max_bytes ? (size_t)(relay.max_bytes - relay.size) : n;
    ssize_t w = write(relay.fd, buf, n < room ? n : room);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    relay.size += w;
    buf += w;
    n -= (size_t)w;
  }
}

/*
 * Copies up to `limit` bytes from the pipe to the log, or until it is empty; at
 * its end (no writer left) the pipe is closed. Nothing is copied while a reader
 * holds a rotated file back, unless `force`d.
 */
static void relay_copy(size_t limit, int force) {
  static char buf[65536];
  while (relay.in >= 0 && limit > 0) {
    if (!force && relay.prune_pending && !prune_rotated()) return;
    /*
     * Rotated here, between reads, and no read spans a rotation: when a reader
     * holds the oldest file back, the copy stops before anything of the fresh
     * file is written, so the log never holds more than (keep + 1) x maxBytes.
     */
    if (relay.size >= relay.max_bytes) {
      rotate_log();
      if (!force && relay.prune_pending) return;
    }
    size_t want = limit < sizeof buf ? limit : sizeof buf;
    if (relay.size < relay.max_bytes && (size_t)(relay.max_bytes - relay.size) < want) want = (size_t)(relay.max_bytes - relay.size);
    ssize_t n = read(relay.in, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return; /* EAGAIN: all of it copied */
    if (n == 0) {
      close(relay.in);
      relay.in = -1;
      return;
    }
    log_write(buf, (size_t)n);
    limit -= (size_t)n;
  }
}

/* Before an exit is recorded: everything written until then is in the log, so a reader that stops at the exit misses nothing. */
static void relay_copy_written(void) {
  int pending = 0;
  if (relay.in >= 0 && ioctl(relay.in, FIONREAD, &pending) == 0 && pending > 0) relay_copy((size_t)pending, 1);
}

/*
 * Waits for a signal (`unblocked` is the mask to take them with) or, while the
 * relay has writers, for output, which is copied a bounded amount at a time so
 * that a process that never stops writing never holds up reaping. While a
 * reader holds a rotated file back, it looks again every few milliseconds.
 */
static void relay_wait(const sigset_t *unblocked) {
  if (relay.in < 0) {
    sigsuspend(unblocked);
    return;
  }
  struct pollfd p = {.fd = relay.prune_pending ? -1 : relay.in, .events = POLLIN, .revents = 0};
  struct timespec holding = {.tv_sec = 0, .tv_nsec = 5 * 1000 * 1000};
  if (ppoll(&p, 1, relay.prune_pending ? &holding : NULL, unblocked) >= 0) relay_copy(1 << 20, 0);
}

/* When the monitor is done: what the last writers left in the pipe, and the rotated files readers were still reading. */
static void relay_finish(void) {
  relay_copy(SIZE_MAX, 1);
  struct timespec holding = {.tv_sec = 0, .tv_nsec = 5 * 1000 * 1000};
  while (relay.prune_pending && !prune_rotated()) nanosleep(&holding, NULL);
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
  if (join_cgroups(r->dir) != 0) start_failed(errfd, "joining its cgroup");
  char log[4096];
  snprintf(log, sizeof log, "%s/%s.log", r->dir, r->proc);
  int out = open_output(log);
  int in = open("/dev/null", O_RDONLY);
  if (out < 0 || in < 0 || chdir(r->cwd) != 0) start_failed(errfd, "");
  dup2(in, STDIN_FILENO);
  dup2(out, STDOUT_FILENO);
  dup2(out, STDERR_FILENO);
  if (in > STDERR_FILENO) close(in);
  if (out > STDERR_FILENO) close(out);
  umask(inherited_umask);
  take_identity(r, errfd);
  environ = r->envp; /* so execvp searches the process's own PATH */
  execvp(r->argv[0], r->argv);
  start_failed(errfd, "");
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
  relay_open(r);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    become(r, fds[1]);
  }
  long long forked = boot_ns();
  close(fds[1]);
  if (relay.out >= 0) close(relay.out); /* the process's end: the pipe ends when the last of its writers is gone */
  struct start_failure failure = {.err = 0, .step = {0}};
  ssize_t n = pid < 0 ? -1 : read(fds[0], &failure, sizeof failure);
  close(fds[0]);
  leader = pid;
  if (pid < 0 || n > 0) {
    if (pid < 0) failure.err = errno;
    else waitpid(pid, NULL, 0);
    failure.step[sizeof failure.step - 1] = 0;
    snprintf(line, sizeof line, "%s%s%s", failure.step, failure.step[0] ? ": " : "", strerror(failure.err));
    say_failed(r->req, failure.err, line);
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
      relay_copy_written();
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
    relay_wait(&none);
  }
  relay_finish();
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

/* One decimal number at *cursor, at most max, followed by a space or the end; 0, or -1 for anything else. */
static int next_number(const char **cursor, unsigned long long max, unsigned long long *out) {
  const char *p = *cursor;
  unsigned long long value = 0;
  if (*p < '0' || *p > '9') return -1;
  for (; *p >= '0' && *p <= '9'; p++) {
    unsigned digit = (unsigned)(*p - '0');
    if (value > (max - digit) / 10) return -1;
    value = value * 10 + digit;
  }
  if (*p == ' ') p++;
  else if (*p) return -1;
  *cursor = p;
  *out = value;
  return 0;
}

/* The largest uid or gid: (uid_t)-1 tells setuid to change nothing. */
#define MAX_ID 4294967294ULL

/* The user field: "<uid> <gid> [<gid>...]", or empty for the monitor's own identity. */
static int parse_user(const char *text, struct request *r) {
  if (!*text) return 0;
  size_t words = 1;
  for (const char *c = text; *c; c++) words += *c == ' ';
  if (words < 2 || words - 2 > NGROUPS_MAX) return -1;
  unsigned long long id;
  if (next_number(&text, MAX_ID, &id)) return -1;
  r->uid = (uid_t)id;
  if (next_number(&text, MAX_ID, &id)) return -1;
  r->gid = (gid_t)id;
  r->groups = calloc(words - 2 + 1, sizeof *r->groups);
  if (!r->groups) return -1;
  while (*text) {
    if (r->ngroups == words - 2 || next_number(&text, MAX_ID, &id)) return -1;
    r->groups[r->ngroups++] = (gid_t)id;
  }
  r->has_user = 1;
  return 0;
}

/* A limit: decimal below RLIM_INFINITY, or "unlimited". */
static int next_limit(const char **cursor, rlim_t *out) {
  if (strncmp(*cursor, "unlimited", 9) == 0 && ((*cursor)[9] == ' ' || (*cursor)[9] == 0)) {
    *cursor += (*cursor)[9] ? 10 : 9;
    *out = RLIM_INFINITY;
    return 0;
  }
  unsigned long long value;
  if (next_number(cursor, (unsigned long long)RLIM_INFINITY - 1, &value)) return -1;
  *out = (rlim_t)value;
  return 0;
}

/* The rlimits field: "<RLIMIT_NAME> <soft> <hard> ...", each name known and at most once, soft <= hard. */
static int parse_limits(const char *text, struct request *r) {
  while (*text) {
    const struct limit *known = NULL;
    for (size_t i = 0; i < LIMIT_COUNT && !known; i++) {
      size_t n = strlen(LIMIT_NAMES[i].name);
      if (strncmp(text, LIMIT_NAMES[i].name, n) == 0 && text[n] == ' ') known = &LIMIT_NAMES[i];
    }
    if (!known || r->nlimits == LIMIT_COUNT) return -1;
    for (size_t i = 0; i < r->nlimits; i++)
      if (r->limits[i].resource == known->resource) return -1;
    text += strlen(known->name) + 1;
    struct limit *limit = &r->limits[r->nlimits];
    *limit = *known;
    if (next_limit(&text, &limit->value.rlim_cur) || next_limit(&text, &limit->value.rlim_max)) return -1;
    if (limit->value.rlim_cur > limit->value.rlim_max) return -1;
    r->nlimits++;
  }
  return 0;
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

/* The digest of the source this shim was compiled from (scripts/build-shim.mjs), which berth checks at open. */
#ifndef BERTH_SHIM_SOURCE
#define BERTH_SHIM_SOURCE "unknown"
#endif

/* Reports on fd 3, the sync pipe of a C request. */
static int created_start_failed(const char *why) {
  dprintf(3, "{\"data\": -1, \"message\": \"%s\"}\n", why);
  return 1;
}

/*
 * What `runc start` does, with runc's own start-up left out: a created
 * container's `runc init` waits, blocked, to open runc's exec fifo for writing;
 * opening the other end lets it write a byte and exec the container's process
 * (its end is close-on-exec, so EOF follows the exec). Then the fifo is
 * removed: runc calls a container whose fifo exists `created`, and `running`
 * once it is gone. As runc does, init is looked at every 100 ms, so one that
 * died before it opened the fifo (gone, or its pid another process's, by its
 * start time; its conmon reaps it at once) fails the start instead of hanging it. This
 * runs as a C request's program, outside the supervisor: a supervisor that dies
 * meanwhile leaves the start to finish, as it would leave `runc start`.
 * Reports on fd 3 as conmon does: {"data": <init pid>} or {"data": -1, "message": ...}.
 */
static int start_created(const char *fifo, pid_t init, unsigned long long init_start) {
  int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return created_start_failed(strerror(errno));
  int wrote = 0;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int ready = poll(&p, 1, 100);
    if (ready < 0 && errno != EINTR) return created_start_failed(strerror(errno));
    unsigned long long now = ready == 0 ? start_time(init) : init_start;
    int gone = now == 0 || (init_start != 0 && now != init_start);
    if (ready <= 0 && !gone) continue;
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      wrote = 1;
      continue;
    }
    if (n == 0 && wrote) break; /* the byte, then EOF: the process was exec'd */
    if (n == 0 || gone) return created_start_failed("container process is already dead");
    if (errno != EAGAIN && errno != EINTR) return created_start_failed(strerror(errno));
  }
  close(fd);
  if (unlink(fifo) != 0 && errno != ENOENT) return created_start_failed(strerror(errno));
  dprintf(3, "{\"data\": %d}\n", (int)init);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("berth-shim %s\n", BERTH_SHIM_SOURCE);
    return 0;
  }
  if (argc == 5 && strcmp(argv[1], "start-created") == 0) return start_created(argv[2], (pid_t)atoi(argv[3]), strtoull(argv[4], NULL, 10));
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
    size_t identity[2];
    fields(2, identity); /* user, rlimits */

    int synced = buf[head[0]] == 'C';
    struct request r = {.req = buf + head[1], .dir = buf + head[2], .proc = buf + head[3], .gen = buf + head[4], .cwd = buf + head[5], .init = buf[head[0]] == 'I'};
    r.argv = calloc(nargs + 1, sizeof *r.argv);
    r.envp = calloc(nenv + 1, sizeof *r.envp);
    for (size_t i = 0; i < nargs; i++) r.argv[i] = buf + argo[i];
    for (size_t i = 0; i < nenv; i++) r.envp[i] = buf + envo[i];
    if (nargs == 0) {
      say_failed(r.req, EINVAL, "no command");
    } else if (parse_user(buf + identity[0], &r) != 0) {
      say_failed(r.req, EINVAL, "user: ids must be decimal, at most 4294967294, with at most NGROUPS_MAX groups");
    } else if (parse_limits(buf + identity[1], &r) != 0) {
      say_failed(r.req, EINVAL, "rlimits: known names, each once, with decimal limits (or unlimited), soft <= hard");
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
    free(r.groups);
  }
}
