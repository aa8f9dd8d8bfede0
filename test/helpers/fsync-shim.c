/*
 * LD_PRELOAD shim for the power-cut test (test/integration/plugin/power-cut.test.ts): records,
 * in order, every call that changes files under $FSYNC_SHIM_PREFIX — creates, writes (with
 * their bytes), truncates, renames, unlinks, mkdir/rmdir, links, symlinks — and every fsync,
 * fdatasync, sync and syncfs, so that test/helpers/power-cut.ts can rebuild the files a power
 * cut would leave: only what was fsynced (file data by fsync of the file, directory entries by
 * fsync of the directory). It changes nothing: each call goes to libc and is logged after it
 * succeeded. Calls that copy data in the kernel (copy_file_range, sendfile) cannot be replayed
 * and are logged as UNSUPPORTED, which fails the test. Statically linked programs (ldconfig)
 * bypass it; the test's replay check then sees files it did not expect.
 *
 * Log line: "<pid> <op> <args...>\n", paths absolute, data in hex. One write(2) per line
 * with O_APPEND, so the processes of one run (node, dpkg-divert) interleave whole lines.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/*
 * The process the shim was initialised in. Between fork and exec (libuv spawning ldconfig,
 * dpkg-divert …) the child runs with a copy of the mutex that another thread may hold
 * forever: there the shim neither locks nor logs (the exec'd program starts it afresh).
 */
static pid_t self_pid;
static int lock_if_self(void) {
  if (getpid() != self_pid) return 0;
  pthread_mutex_lock(&lock);
  return 1;
}
#define LOCK() int locked_ = lock_if_self()
#define UNLOCK() \
  if (locked_) pthread_mutex_unlock(&lock)
static int log_fd = -1;
static char prefix[PATH_MAX];
static size_t prefix_len;
#define MAX_FD 65536
static char tracked[MAX_FD];

/*
 * Each interposed function finds libc's through dlsym once, before taking the shim's lock:
 * dlsym takes the dynamic loader's lock, and a thread inside dlopen may be waiting for ours.
 */
#define REAL(name, ret, ...) \
  static ret (*real_##name)(__VA_ARGS__); \
  if (!real_##name) real_##name = (ret (*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name)

static ssize_t (*raw_write)(int, const void *, size_t);
static int (*raw_open)(const char *, int, ...);
static int (*raw_close)(int);

__attribute__((constructor)) static void init(void) {
  const char *p = getenv("FSYNC_SHIM_PREFIX");
  const char *l = getenv("FSYNC_SHIM_LOG");
  self_pid = getpid();
  if (!p || !l) return;
  snprintf(prefix, sizeof prefix, "%s", p);
  prefix_len = strlen(prefix);
  raw_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
  raw_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
  raw_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
  log_fd = raw_open(l, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

/* Absolute path of `path` relative to `dirfd`, with the directory part resolved (not the last component). */
static int canon(int dirfd, const char *path, char *out) {
  char joined[PATH_MAX * 2];
  if (path[0] == '/') {
    snprintf(joined, sizeof joined, "%s", path);
  } else {
    char base[PATH_MAX];
    if (dirfd == AT_FDCWD) {
      if (!getcwd(base, sizeof base)) return -1;
    } else {
      char link[64];
      snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
      ssize_t n = readlink(link, base, sizeof base - 1);
      if (n < 0) return -1;
      base[n] = 0;
    }
    snprintf(joined, sizeof joined, "%s/%s", base, path);
  }
  size_t len = strlen(joined);
  while (len > 1 && joined[len - 1] == '/') joined[--len] = 0;
  /* A descriptor's magic link (/proc/self/fd/N, how the agent reaches pinned directories): its target. */
  if (strncmp(joined, "/proc/self/fd/", 14) == 0 && strchr(joined + 14, '/') == NULL) {
    ssize_t n = readlink(joined, out, PATH_MAX - 1);
    if (n < 0) return -1;
    out[n] = 0;
    return 0;
  }
  char *slash = strrchr(joined, '/');
  char dir[PATH_MAX];
  const char *name = slash + 1;
  if (slash == joined) snprintf(dir, sizeof dir, "/");
  else {
    *slash = 0;
    if (!realpath(joined, dir)) return -1;
  }
  if ((size_t)snprintf(out, PATH_MAX, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name) >= PATH_MAX) return -1;
  return 0;
}

static int under_prefix(const char *p) {
  return log_fd >= 0 && getpid() == self_pid && strncmp(p, prefix, prefix_len) == 0 && (p[prefix_len] == '/' || p[prefix_len] == 0);
}

static void emit(const char *fmt, ...) {
  if (getpid() != self_pid) return;
  char buf[3 * PATH_MAX + 128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0) raw_write(log_fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void emit_write(int fd, long long off, const struct iovec *iov, int cnt, size_t total) {
  if (getpid() != self_pid) return;
  size_t head = 96;
  char *buf = malloc(head + total * 2 + 2);
  if (!buf) return;
  int n = snprintf(buf, head, "%d W %d %lld %zu ", getpid(), fd, off, total);
  static const char hex[] = "0123456789abcdef";
  char *o = buf + n;
  size_t left = total;
  for (int i = 0; i < cnt && left > 0; i++) {
    const unsigned char *b = iov[i].iov_base;
    size_t take = iov[i].iov_len < left ? iov[i].iov_len : left;
    for (size_t j = 0; j < take; j++) {
      *o++ = hex[b[j] >> 4];
      *o++ = hex[b[j] & 15];
    }
    left -= take;
  }
  *o++ = '\n';
  raw_write(log_fd, buf, (size_t)(o - buf));
  free(buf);
}

static void after_open(int fd, int dirfd, const char *path, int flags) {
  if (fd < 0 || fd >= MAX_FD || log_fd < 0 || getpid() != self_pid) return;
  char c[PATH_MAX];
  tracked[fd] = 0;
  if (canon(dirfd, path, c) != 0 || !under_prefix(c)) return;
  tracked[fd] = 1;
  struct stat st;
  int isdir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
  emit("%d O %d %s%s%s %s\n", getpid(), fd, isdir ? "D" : "F", (flags & O_CREAT) ? "C" : "", (flags & O_TRUNC) ? "T" : "", c);
}

#define OPEN_BODY(realname, dirfd_expr)                                   \
  mode_t mode = 0;                                                         \
  if (flags & (O_CREAT | O_TMPFILE)) {                                     \
    va_list ap;                                                            \
    va_start(ap, flags);                                                   \
    mode = va_arg(ap, mode_t);                                             \
    va_end(ap);                                                            \
  }                                                                        \
  LOCK();                                               \
  int fd = real_##realname(ARGS, flags, mode);                             \
  int saved = errno;                                                       \
  after_open(fd, dirfd_expr, path, flags);                                 \
  UNLOCK();                                             \
  errno = saved;                                                           \
  return fd;

#define ARGS path
int open(const char *path, int flags, ...) {
  REAL(open, int, const char *, int, ...);
  OPEN_BODY(open, AT_FDCWD)
}
int open64(const char *path, int flags, ...) {
  REAL(open64, int, const char *, int, ...);
  OPEN_BODY(open64, AT_FDCWD)
}
#undef ARGS
#define ARGS dirfd, path
int openat(int dirfd, const char *path, int flags, ...) {
  REAL(openat, int, int, const char *, int, ...);
  OPEN_BODY(openat, dirfd)
}
int openat64(int dirfd, const char *path, int flags, ...) {
  REAL(openat64, int, int, const char *, int, ...);
  OPEN_BODY(openat64, dirfd)
}
#undef ARGS

int __open_2(const char *path, int flags) { return open(path, flags); }
int __open64_2(const char *path, int flags) { return open64(path, flags); }
int creat(const char *path, mode_t mode) { return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode); }

/* Untracked descriptors go straight to libc, unlocked: libuv's SIGCHLD handler write(2)s
 * to its signal pipe, and a handler that waited for a lock its own thread holds would hang. */
#define UNTRACKED(fd) ((fd) < 0 || (fd) >= MAX_FD || !tracked[(fd)])

int close(int fd) {
  REAL(close, int, int);
  if (UNTRACKED(fd)) return real_close(fd);
  LOCK();
  int r = real_close(fd);
  int saved = errno;
  if (r == 0 && locked_ && fd >= 0 && fd < MAX_FD && tracked[fd]) {
    tracked[fd] = 0;
    emit("%d C %d\n", getpid(), fd);
  }
  UNLOCK();
  errno = saved;
  return r;
}

static ssize_t logged_write(int fd, long long off, const struct iovec *iov, int cnt, ssize_t r) {
  if (r > 0 && fd >= 0 && fd < MAX_FD && tracked[fd]) emit_write(fd, off, iov, cnt, (size_t)r);
  return r;
}

ssize_t write(int fd, const void *buf, size_t n) {
  REAL(write, ssize_t, int, const void *, size_t);
  if (UNTRACKED(fd)) return real_write(fd, buf, n);
  LOCK();
  long long off = (fd >= 0 && fd < MAX_FD && tracked[fd]) ? lseek(fd, 0, SEEK_CUR) : -1;
  ssize_t r = real_write(fd, buf, n);
  int saved = errno;
  struct iovec v = {(void *)buf, n};
  logged_write(fd, off, &v, 1, r);
  UNLOCK();
  errno = saved;
  return r;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
  REAL(writev, ssize_t, int, const struct iovec *, int);
  if (UNTRACKED(fd)) return real_writev(fd, iov, cnt);
  LOCK();
  long long off = (fd >= 0 && fd < MAX_FD && tracked[fd]) ? lseek(fd, 0, SEEK_CUR) : -1;
  ssize_t r = real_writev(fd, iov, cnt);
  int saved = errno;
  logged_write(fd, off, iov, cnt, r);
  UNLOCK();
  errno = saved;
  return r;
}

#define PWRITE(name, offtype)                                              \
  ssize_t name(int fd, const void *buf, size_t n, offtype off) {           \
    REAL(name, ssize_t, int, const void *, size_t, offtype);               \
    if (UNTRACKED(fd)) return real_##name(fd, buf, n, off);                \
    LOCK();                                             \
    ssize_t r = real_##name(fd, buf, n, off);                              \
    int saved = errno;                                                     \
    struct iovec v = {(void *)buf, n};                                     \
    logged_write(fd, (long long)off, &v, 1, r);                            \
    UNLOCK();                                           \
    errno = saved;                                                         \
    return r;                                                              \
  }
PWRITE(pwrite, off_t)
PWRITE(pwrite64, off64_t)

#define PWRITEV(name, offtype)                                             \
  ssize_t name(int fd, const struct iovec *iov, int cnt, offtype off) {    \
    REAL(name, ssize_t, int, const struct iovec *, int, offtype);          \
    if (UNTRACKED(fd)) return real_##name(fd, iov, cnt, off);              \
    LOCK();                                             \
    ssize_t r = real_##name(fd, iov, cnt, off);                            \
    int saved = errno;                                                     \
    logged_write(fd, (long long)off, iov, cnt, r);                         \
    UNLOCK();                                           \
    errno = saved;                                                         \
    return r;                                                              \
  }
PWRITEV(pwritev, off_t)
PWRITEV(pwritev64, off64_t)

/*
 * fsync of a file whose open the shim did not see (stdio's fopen opens inside libc, past the
 * PLT, e.g. dpkg-divert writing /var/lib/dpkg/diversions-new): log its path and whole content,
 * which is what that fsync made durable.
 */
static void sync_untracked(int fd) {
  if (getpid() != self_pid) return;
  char link[64], p[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, p, sizeof p - 1);
  if (n <= 0) return;
  p[n] = 0;
  struct stat st;
  if (!under_prefix(p) || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
  char *data = malloc((size_t)st.st_size + 1);
  if (!data) return;
  /* The writer's fd may be write-only (fopen "w"): read through a new descriptor of the same file. */
  int rfd = raw_open(link, O_RDONLY | O_CLOEXEC);
  ssize_t got = rfd >= 0 ? pread(rfd, data, (size_t)st.st_size, 0) : -1;
  if (rfd >= 0) raw_close(rfd);
  if (got >= 0) {
    size_t len = (size_t)got;
    char *buf = malloc(strlen(p) + 64 + len * 2 + 2);
    if (buf) {
      static const char hex[] = "0123456789abcdef";
      int h = sprintf(buf, "%d SP %s %zu ", getpid(), p, len);
      char *o = buf + h;
      for (size_t i = 0; i < len; i++) {
        *o++ = hex[(unsigned char)data[i] >> 4];
        *o++ = hex[(unsigned char)data[i] & 15];
      }
      *o++ = '\n';
      raw_write(log_fd, buf, (size_t)(o - buf));
      free(buf);
    }
  }
  free(data);
}

#define FDOP(name, tag)                                                    \
  int name(int fd) {                                                       \
    REAL(name, int, int);                                                  \
    LOCK();                                             \
    int r = real_##name(fd);                                               \
    int saved = errno;                                                     \
    if (r == 0 && fd >= 0 && fd < MAX_FD && tracked[fd]) emit("%d " tag " %d\n", getpid(), fd); \
    else if (r == 0 && fd >= 0 && log_fd >= 0 && tag[0] == 'S') sync_untracked(fd); \
    UNLOCK();                                           \
    errno = saved;                                                         \
    return r;                                                              \
  }
FDOP(fsync, "S")
FDOP(fdatasync, "S")
FDOP(syncfs, "Y")

void sync(void) {
  REAL(sync, void, void);
  LOCK();
  real_sync();
  if (log_fd >= 0) emit("%d Y -1\n", getpid());
  UNLOCK();
}

#define FTRUNC(name, offtype)                                              \
  int name(int fd, offtype len) {                                          \
    REAL(name, int, int, offtype);                                         \
    LOCK();                                             \
    int r = real_##name(fd, len);                                          \
    int saved = errno;                                                     \
    if (r == 0 && fd >= 0 && fd < MAX_FD && tracked[fd]) emit("%d T %d %lld\n", getpid(), fd, (long long)len); \
    UNLOCK();                                           \
    errno = saved;                                                         \
    return r;                                                              \
  }
FTRUNC(ftruncate, off_t)
FTRUNC(ftruncate64, off64_t)

/* Path operations: canonical paths are computed before the call (the source may vanish). */
static int two(int r, const char *tag, const char *a, const char *b) {
  if (r == 0 && (under_prefix(a) || under_prefix(b))) emit("%d %s %s %s\n", getpid(), tag, a, b);
  return r;
}
static int one(int r, const char *tag, const char *a) {
  if (r == 0 && under_prefix(a)) emit("%d %s %s\n", getpid(), tag, a);
  return r;
}

int renameat2(int od, const char *o, int nd, const char *n, unsigned flags) {
  REAL(renameat2, int, int, const char *, int, const char *, unsigned);
  char a[PATH_MAX] = "", b[PATH_MAX] = "";
  LOCK();
  canon(od, o, a);
  canon(nd, n, b);
  int r = real_renameat2(od, o, nd, n, flags);
  int saved = errno;
  if (r == 0 && flags != 0 && (under_prefix(a) || under_prefix(b))) emit("%d UNSUPPORTED renameat2-flags %s\n", getpid(), a);
  two(r, "R", a, b);
  UNLOCK();
  errno = saved;
  return r;
}
int renameat(int od, const char *o, int nd, const char *n) {
  REAL(renameat, int, int, const char *, int, const char *);
  char a[PATH_MAX] = "", b[PATH_MAX] = "";
  LOCK();
  canon(od, o, a);
  canon(nd, n, b);
  int r = real_renameat(od, o, nd, n);
  int saved = errno;
  two(r, "R", a, b);
  UNLOCK();
  errno = saved;
  return r;
}
int rename(const char *o, const char *n) { return renameat(AT_FDCWD, o, AT_FDCWD, n); }

int unlinkat(int d, const char *p, int flags) {
  REAL(unlinkat, int, int, const char *, int);
  char a[PATH_MAX] = "";
  LOCK();
  canon(d, p, a);
  int r = real_unlinkat(d, p, flags);
  int saved = errno;
  one(r, "U", a);
  UNLOCK();
  errno = saved;
  return r;
}
int unlink(const char *p) { return unlinkat(AT_FDCWD, p, 0); }
int rmdir(const char *p) { return unlinkat(AT_FDCWD, p, AT_REMOVEDIR); }

int mkdirat(int d, const char *p, mode_t m) {
  REAL(mkdirat, int, int, const char *, mode_t);
  char a[PATH_MAX] = "";
  LOCK();
  canon(d, p, a);
  int r = real_mkdirat(d, p, m);
  int saved = errno;
  one(r, "M", a);
  UNLOCK();
  errno = saved;
  return r;
}
int mkdir(const char *p, mode_t m) { return mkdirat(AT_FDCWD, p, m); }

int linkat(int od, const char *o, int nd, const char *n, int flags) {
  REAL(linkat, int, int, const char *, int, const char *, int);
  char a[PATH_MAX] = "", b[PATH_MAX] = "";
  LOCK();
  canon(od, o, a);
  canon(nd, n, b);
  int r = real_linkat(od, o, nd, n, flags);
  int saved = errno;
  two(r, "L", a, b);
  UNLOCK();
  errno = saved;
  return r;
}
int link(const char *o, const char *n) { return linkat(AT_FDCWD, o, AT_FDCWD, n, 0); }

int symlinkat(const char *target, int d, const char *p) {
  REAL(symlinkat, int, const char *, int, const char *);
  char a[PATH_MAX] = "";
  LOCK();
  canon(d, p, a);
  int r = real_symlinkat(target, d, p);
  int saved = errno;
  two(r, "SL", a, target);
  UNLOCK();
  errno = saved;
  return r;
}
int symlink(const char *target, const char *p) { return symlinkat(target, AT_FDCWD, p); }

ssize_t copy_file_range(int in, off64_t *ip, int out, off64_t *op, size_t len, unsigned flags) {
  REAL(copy_file_range, ssize_t, int, off64_t *, int, off64_t *, size_t, unsigned);
  ssize_t r = real_copy_file_range(in, ip, out, op, len, flags);
  if (r > 0 && out >= 0 && out < MAX_FD && tracked[out]) emit("%d UNSUPPORTED copy_file_range %d\n", getpid(), out);
  return r;
}
ssize_t sendfile(int out, int in, off_t *off, size_t n) {
  REAL(sendfile, ssize_t, int, int, off_t *, size_t);
  ssize_t r = real_sendfile(out, in, off, n);
  if (r > 0 && out >= 0 && out < MAX_FD && tracked[out]) emit("%d UNSUPPORTED sendfile %d\n", getpid(), out);
  return r;
}
