/*
 * shmlink_peer.c — the shmlink wire protocol (docs/protocol.md, layout version 3) in C11.
 *
 * Written from the document; section numbers below refer to it. Every shared word is accessed with
 * __atomic_* seq_cst operations; payload bytes are plain copies ordered by the cursor stores around
 * them. Everything read from the region is checked before use (section 6).
 */
#define _GNU_SOURCE
#include "shmlink_peer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "shmlink_peer assumes a little-endian host (the protocol's words are little-endian)"
#endif

/* ---- Layout (sections 2.1 - 2.4) ---------------------------------------------------------------- */

#define MAGIC 0x4B4E4C53u
#define VERSION 3u
#define INITIALIZING 0xFFFFFFFFu
#define HEADER_SIZE 256u
#define MIN_RING 64u
#define MIN_HALF (HEADER_SIZE + MIN_RING)

#define OFF_MAGIC 0
#define OFF_VERSION 4
#define OFF_HEADER_SIZE 8
#define OFF_RING_SIZE 12
#define OFF_HALF_SIZE 16

#define OFF_TAIL 64
#define OFF_PRODUCER_WAITING 68
#define OFF_PRODUCER_PID 72
#define OFF_PRODUCER_STATE 76
#define OFF_PRODUCER_EPOCH 80
#define OFF_PRODUCER_START_LO 84
#define OFF_PRODUCER_START_HI 88

#define OFF_HEAD 128
#define OFF_CONSUMER_SLEEPING 132
#define OFF_CONSUMER_PID 136
#define OFF_CONSUMER_STATE 140
#define OFF_CONSUMER_EPOCH 144
#define OFF_CONSUMER_START_LO 148
#define OFF_CONSUMER_START_HI 152
#define OFF_ORPHAN 156

/* A party slot: pid, state, epoch, start lo, start hi are consecutive words. */
#define SLOT_PRODUCER OFF_PRODUCER_PID
#define SLOT_CONSUMER OFF_CONSUMER_PID
#define SLOT_PID 0
#define SLOT_STATE 4
#define SLOT_EPOCH 8
#define SLOT_START_LO 12
#define SLOT_START_HI 16

#define STATE_NONE 0u
#define STATE_ATTACHED 1u
#define STATE_LEFT 2u

#define SLEEP_AWAKE 0u
#define SLEEP_FUTEX 1u
#define SLEEP_DOORBELL 2u

#define FRAME_HEADER 8u
#define BEGIN_PREFIX 8u
#define T_MESSAGE 1u
#define T_BEGIN 2u
#define T_CONTINUE 3u
#define T_END 4u
#define T_PADDING 5u
#define TYPE_MASK 0xffffu
#define LAP_SHIFT 16

#define DEFAULT_MAX_MESSAGE (64u * 1024u * 1024u)
#define DEFAULT_CHECK_MS 250u
#define MAX_NAME 200

static uint64_t align8(uint64_t n) { return (n + 7u) & ~(uint64_t)7u; }

/* ---- Types ----------------------------------------------------------------------------------- */

struct half {
  uint8_t *p;          /* start of the half in our mapping */
  uint32_t base;       /* its offset in the region */
  uint32_t size;
  uint32_t ring_size;  /* floor((size - 256) / 8) * 8 */
  uint64_t wrap;       /* floor(2^32 / ring_size) * ring_size: may be 2^32 itself */
  uint32_t max_payload;/* floor(ring_size / 2 / 8) * 8 - 8 */
  uint8_t *ring;
};

struct bell {          /* the ringing end of a doorbell FIFO */
  char path[300];
  int fd;
};

struct partial {
  int active;
  int skipping;        /* too large: counted, not stored */
  uint8_t *buf;
  uint64_t filled;
  uint64_t total;
};

struct shmlink_peer {
  char name[MAX_NAME + 1];
  int fd;
  uint8_t *map;
  uint64_t capacity;
  uint32_t me;
  uint64_t my_start;
  uint32_t max_message;
  uint32_t check_ms;
  void (*on_error)(void *, int, const char *);
  void *ctx;
  int interrupted;     /* atomic */

  struct half wr;      /* the half we write (we are its producer) */
  struct half rd;      /* the half we read (we are its consumer) */

  /* producer state (the sending thread) */
  uint64_t tail;
  struct bell bell_w;  /* the peer's doorbell, rung by the sending thread */

  /* consumer state (the receiving thread) */
  uint64_t head;
  int64_t bad_tail;    /* a tail found invalid, ignored until the producer stores another; -1 none */
  struct partial part;
  int orphan_reported; /* an orphan fragment of the message being skipped was reported */
  uint8_t *out;
  size_t out_cap;
  size_t out_len;
  struct bell bell_r;  /* the same doorbell, rung by the receiving thread */
  int peer_seen;
  uint32_t peer_pid, peer_epoch;
  uint64_t peer_start;
  int64_t last_liveness_ns;

  /* Test hooks (environment, read at open; 0 = off): see test_delay(). */
  int64_t wake_delay_ns;  /* SHMLINK_TEST_WAKE_DELAY_US: between a publication and the flag check */
  int64_t sleep_delay_ns; /* SHMLINK_TEST_SLEEP_DELAY_US: between the re-check and the futex wait */

  shmlink_stats stats; /* updated with relaxed atomics: two threads */
  char error[512];
};

/* ---- Shared words ---------------------------------------------------------------------------- */

static uint32_t *word(const struct half *h, uint32_t off) { return (uint32_t *)(void *)(h->p + off); }
static uint32_t load(const struct half *h, uint32_t off) { return __atomic_load_n(word(h, off), __ATOMIC_SEQ_CST); }
static void store(const struct half *h, uint32_t off, uint32_t v) { __atomic_store_n(word(h, off), v, __ATOMIC_SEQ_CST); }
static int cas(const struct half *h, uint32_t off, uint32_t expected, uint32_t desired) {
  return __atomic_compare_exchange_n(word(h, off), &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* Frame words live in the ring: read each exactly once (a hostile producer may change them). */
static uint32_t ring_rd32(const uint8_t *p) { return __atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_RELAXED); }
static void ring_wr32(uint8_t *p, uint32_t v) { __atomic_store_n((uint32_t *)(void *)p, v, __ATOMIC_RELAXED); }

static void stat_add(uint64_t *counter) { __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED); }

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* futex without FUTEX_PRIVATE_FLAG: the word is shared between processes (section 4). */
static void futex_wait(uint32_t *w, uint32_t expected, int64_t timeout_ns) {
  struct timespec ts;
  if (timeout_ns < 0) timeout_ns = 0;
  ts.tv_sec = (time_t)(timeout_ns / 1000000000);
  ts.tv_nsec = (long)(timeout_ns % 1000000000);
  syscall(SYS_futex, w, FUTEX_WAIT, expected, &ts, NULL, 0); /* 0, EAGAIN, ETIMEDOUT, EINTR: all re-check */
}

static void futex_wake(uint32_t *w) { syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0); }

/* Test hooks only. A microsecond count from the environment, as nanoseconds; 0 when unset. */
static int64_t env_delay_ns(const char *name) {
  const char *v = getenv(name);
  if (v == NULL || *v == '\0') return 0;
  long long us = strtoll(v, NULL, 10);
  return us > 0 && us <= 10000000 ? (int64_t)us * 1000 : 0;
}

/* Holds the thread for `ns` (test hooks): widens a race window the way a preemption or a tracer
 * stopping at a system call would. */
static void test_delay(int64_t ns) {
  if (ns <= 0) return;
  struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
  nanosleep(&ts, NULL);
}

static int is_interrupted(const shmlink_peer *p) { return __atomic_load_n(&p->interrupted, __ATOMIC_SEQ_CST); }

static void set_error(shmlink_peer *p, char *err, size_t errlen, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (p != NULL) snprintf(p->error, sizeof p->error, "%s", buf);
  if (err != NULL && errlen > 0) snprintf(err, errlen, "%s", buf);
}

static void notice(shmlink_peer *p, int what, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  stat_add(what == SHMLINK_NOTICE_CORRUPT ? &p->stats.corrupt : &p->stats.too_large);
  if (p->on_error != NULL) p->on_error(p->ctx, what, buf);
}

/* ---- Processes (section 5) ------------------------------------------------------------------- */

/* Field 22 of /proc/<pid>/stat (clock ticks since boot), counted after the last ')' because the
 * command name (field 2) may contain spaces and parentheses. 0 when unknown. */
static uint64_t process_start_time(uint32_t pid) {
  char path[64], buf[1024];
  if (pid == 0) snprintf(path, sizeof path, "/proc/self/stat");
  else snprintf(path, sizeof path, "/proc/%u/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  char *q = strrchr(buf, ')');
  if (q == NULL) return 0;
  int field = 2;
  while (*q != '\0' && field < 22) {
    if (*q == ' ') field++;
    q++;
  }
  if (field != 22) return 0;
  return strtoull(q, NULL, 10);
}

/* A pid read from the region is a number like any other: outside 1..INT_MAX it is nobody (kill()
 * with a negative pid would address a process group). */
static int process_exists(uint32_t pid) {
  if (pid == 0 || pid > (uint32_t)INT_MAX) return 0;
  if (kill((pid_t)pid, 0) == 0) return 1;
  return errno == EPERM;
}

/* Alive and, where both are known, started at the recorded time (the pid was not reused). */
static int process_alive(uint32_t pid, uint64_t start) {
  if (!process_exists(pid)) return 0;
  if (start == 0) return 1;
  uint64_t now = process_start_time(pid);
  return now == 0 || now == start;
}

static uint64_t slot_start(const struct half *h, uint32_t slot) {
  return (uint64_t)load(h, slot + SLOT_START_LO) | ((uint64_t)load(h, slot + SLOT_START_HI) << 32);
}

/* Claims a party slot; returns 0, or the pid of the live process holding it. */
static uint32_t claim_slot(shmlink_peer *p, const struct half *h, uint32_t slot) {
  for (;;) {
    uint32_t pid = load(h, slot + SLOT_PID);
    uint32_t state = load(h, slot + SLOT_STATE);
    if (pid != 0 && state == STATE_ATTACHED && process_alive(pid, slot_start(h, slot))) return pid;
    if (!cas(h, slot + SLOT_PID, pid, p->me)) continue;
    store(h, slot + SLOT_START_LO, (uint32_t)p->my_start);
    store(h, slot + SLOT_START_HI, (uint32_t)(p->my_start >> 32));
    __atomic_fetch_add(word(h, slot + SLOT_EPOCH), 1u, __ATOMIC_SEQ_CST);
    store(h, slot + SLOT_STATE, STATE_ATTACHED);
    return 0;
  }
}

static void leave_slot(shmlink_peer *p, const struct half *h, uint32_t slot) {
  if (load(h, slot + SLOT_PID) == p->me) store(h, slot + SLOT_STATE, STATE_LEFT);
}

/* ---- Waking (section 4) ---------------------------------------------------------------------- */

static void bell_init(struct bell *b, const char *name, uint32_t base) {
  snprintf(b->path, sizeof b->path, "/dev/shm/%s@%u.bell", name, base);
  b->fd = -1;
}

static void bell_close(struct bell *b) {
  if (b->fd >= 0) close(b->fd);
  b->fd = -1;
}

/* Writes one byte to the doorbell. No FIFO or no listener: nobody sleeps there. A cached fd whose
 * listener went away (EPIPE: the FIFO was replaced by a restarted peer) is reopened once. */
static void bell_ring(shmlink_peer *p, struct bell *b) {
  for (int attempt = 0; attempt < 2; attempt++) {
    if (b->fd < 0) {
      int fd = open(b->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) return;
      struct stat st;
      if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) { /* not a doorbell: never write into it */
        close(fd);
        return;
      }
      b->fd = fd;
    }
    static const uint8_t one = 1;
    ssize_t n = write(b->fd, &one, 1);
    if (n == 1 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))) { /* EAGAIN: full of rings */
      stat_add(&p->stats.doorbell_rings);
      return;
    }
    bell_close(b);
  }
}

/* Wakes whoever announced sleep in `flag`, the way it asked. The swap back to 0 elects one waker.
 * Any non-zero value other than 2 is woken by futex (harmless if nobody waits there). A futex
 * sleeper waits on the flag word itself while it holds 1: a wake that comes late (the sleeper
 * already woke, or is about to sleep again) makes its next wait return at once, never goes lost. */
static void wake_if_sleeping(shmlink_peer *p, const struct half *h, uint32_t flag, struct bell *b) {
  test_delay(p->wake_delay_ns);
  uint32_t how = load(h, flag);
  if (how == SLEEP_AWAKE || !cas(h, flag, how, SLEEP_AWAKE)) return;
  if (how == SLEEP_DOORBELL) {
    bell_ring(p, b);
  } else {
    futex_wake(word(h, flag));
    stat_add(&p->stats.futex_wakes);
  }
}

/* ---- Region and headers (sections 1, 2.1) ---------------------------------------------------- */

static int valid_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > MAX_NAME || name[0] == '.' || name[0] == '-' || strstr(name, "..") != NULL) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')) return 0;
  }
  return 1;
}

/* Creates the region (O_EXCL, mode 0600, ftruncate: zero-filled) or opens the existing one and
 * takes its size (waiting briefly while a creator has not sized it yet). */
static int open_region(shmlink_peer *p, uint64_t capacity, char *err, size_t errlen) {
  char os_name[MAX_NAME + 2];
  snprintf(os_name, sizeof os_name, "/%s", p->name);
  for (int attempt = 0; attempt < 8; attempt++) {
    if (capacity > 0) {
      int fd = shm_open(os_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd >= 0) {
        /* ftruncate fills with zeros. Never clear the region later: an opener may already be
         * initialising a header in it. */
        if (fchmod(fd, 0600) != 0 || ftruncate(fd, (off_t)capacity) != 0) {
          int e = errno;
          close(fd);
          shm_unlink(os_name);
          set_error(p, err, errlen, "cannot size region '%s' to %llu bytes: %s", p->name, (unsigned long long)capacity, strerror(e));
          return SHMLINK_ERR_SYSTEM;
        }
        p->fd = fd;
        p->capacity = capacity;
        return SHMLINK_OK;
      }
      if (errno != EEXIST) {
        set_error(p, err, errlen, "shm_open('%s', O_CREAT|O_EXCL): %s", os_name, strerror(errno));
        return SHMLINK_ERR_SYSTEM;
      }
    }
    int fd = shm_open(os_name, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) {
      if (errno == ENOENT && capacity > 0) continue; /* removed in between: create it */
      set_error(p, err, errlen, "shm_open('%s'): %s", os_name, strerror(errno));
      return SHMLINK_ERR_SYSTEM;
    }
    /* Size 0: the creator is between O_EXCL and ftruncate. Wait up to 2 s (section 1). */
    struct stat st;
    const int64_t sized_by = now_ns() + 2000000000LL;
    while (fstat(fd, &st) == 0 && st.st_size == 0 && now_ns() < sized_by) sleep_ms(1);
    if (fstat(fd, &st) != 0) {
      int e = errno;
      close(fd);
      set_error(p, err, errlen, "fstat('%s'): %s", os_name, strerror(e));
      return SHMLINK_ERR_SYSTEM;
    }
    p->fd = fd;
    p->capacity = (uint64_t)st.st_size;
    return SHMLINK_OK;
  }
  set_error(p, err, errlen, "region '%s' kept appearing and disappearing", p->name);
  return SHMLINK_ERR_SYSTEM;
}

static void half_init(struct half *h, uint8_t *map, uint32_t base, uint32_t size) {
  h->p = map + base;
  h->base = base;
  h->size = size;
  h->ring_size = (size - HEADER_SIZE) / 8u * 8u;
  h->wrap = (((uint64_t)1 << 32) / h->ring_size) * h->ring_size;
  h->max_payload = h->ring_size / 2u / 8u * 8u - FRAME_HEADER;
  h->ring = h->p + HEADER_SIZE;
}

/* Waits (up to 2 s) while the version is 0 or INITIALIZING, then checks the whole descriptor. */
static int check_header(shmlink_peer *p, const struct half *h, char *err, size_t errlen) {
  int64_t deadline = now_ns() + 2000000000LL;
  uint32_t version;
  for (;;) {
    version = load(h, OFF_VERSION);
    if (version != 0 && version != INITIALIZING) break;
    if (now_ns() > deadline) {
      set_error(p, err, errlen, "shmlink half '%s@%u' was never initialised: version=%u expected=%u", p->name, h->base, version, VERSION);
      return SHMLINK_ERR_LAYOUT;
    }
    sleep_ms(1);
  }
  uint32_t magic = load(h, OFF_MAGIC);
  if (magic != MAGIC) {
    set_error(p, err, errlen, "'%s@%u' is not a shmlink half: magic=0x%x expected=0x%x", p->name, h->base, magic, MAGIC);
    return SHMLINK_ERR_LAYOUT;
  }
  if (version != VERSION) {
    set_error(p, err, errlen, "shmlink half '%s@%u' has layout version=%u expected=%u", p->name, h->base, version, VERSION);
    return SHMLINK_ERR_LAYOUT;
  }
  const struct { const char *what; uint32_t off, expected; } checks[] = {
      {"headerSize", OFF_HEADER_SIZE, HEADER_SIZE},
      {"ringSize", OFF_RING_SIZE, h->ring_size},
      {"halfSize", OFF_HALF_SIZE, h->size},
  };
  for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
    uint32_t found = load(h, checks[i].off);
    if (found != checks[i].expected) {
      set_error(p, err, errlen, "half at offset %u of '%s' has %s=%u expected=%u (do both sides use the same capacity and positions?)",
                h->base, p->name, checks[i].what, found, checks[i].expected);
      return SHMLINK_ERR_LAYOUT;
    }
  }
  return SHMLINK_OK;
}

static int verify_header(shmlink_peer *p, const struct half *h, char *err, size_t errlen) {
  return load(h, OFF_VERSION) != 0 ? check_header(p, h, err, errlen) : SHMLINK_OK;
}

static int initialize_header(shmlink_peer *p, const struct half *h, char *err, size_t errlen) {
  if (cas(h, OFF_VERSION, 0, INITIALIZING)) {
    store(h, OFF_HEADER_SIZE, HEADER_SIZE);
    store(h, OFF_RING_SIZE, h->ring_size);
    store(h, OFF_HALF_SIZE, h->size);
    store(h, OFF_MAGIC, MAGIC);
    store(h, OFF_VERSION, VERSION);
    return SHMLINK_OK;
  }
  return check_header(p, h, err, errlen);
}

static int cursor_ok(const struct half *h, uint64_t c) { return c < h->wrap && c % 8u == 0; }
static uint64_t used_bytes(const struct half *h, uint64_t tail, uint64_t head) { return (tail + h->wrap - head) % h->wrap; }

/* A (re)starting producer continues from the tail; a garbage one restarts at the consumer's head. */
static void recover_tail(shmlink_peer *p) {
  struct half *h = &p->wr;
  uint32_t tail = load(h, OFF_TAIL), head = load(h, OFF_HEAD);
  if (cursor_ok(h, tail) && cursor_ok(h, head) && used_bytes(h, tail, head) <= h->ring_size) {
    p->tail = tail;
    return;
  }
  p->tail = cursor_ok(h, head) ? head : 0;
  store(h, OFF_TAIL, (uint32_t)p->tail);
}

/* A (re)starting consumer continues from the head; a garbage one restarts at the producer's tail. */
static void recover_head(shmlink_peer *p) {
  struct half *h = &p->rd;
  uint32_t head = load(h, OFF_HEAD), tail = load(h, OFF_TAIL);
  if (cursor_ok(h, head) && cursor_ok(h, tail) && used_bytes(h, tail, head) <= h->ring_size) {
    p->head = head;
    return;
  }
  p->head = cursor_ok(h, tail) ? tail : 0;
  store(h, OFF_HEAD, (uint32_t)p->head);
}

void shmlink_options_init(shmlink_options *o) {
  memset(o, 0, sizeof *o);
  o->side = 'a';
  o->read_position = -1;
  o->write_position = -1;
}

int shmlink_open(const shmlink_options *o, shmlink_peer **out, char *err, size_t errlen) {
  *out = NULL;
  if (o == NULL || o->name == NULL || !valid_name(o->name)) {
    set_error(NULL, err, errlen, "invalid name: 1-%d of [A-Za-z0-9._-], not starting with '.' or '-', without '..'", MAX_NAME);
    return SHMLINK_ERR_ARGUMENT;
  }
  if (o->side != 'a' && o->side != 'b') {
    set_error(NULL, err, errlen, "side must be 'a' or 'b'");
    return SHMLINK_ERR_ARGUMENT;
  }
  if (o->capacity != 0 && (o->capacity < 2 * MIN_HALF || o->capacity > ((uint64_t)1 << 32))) {
    set_error(NULL, err, errlen, "capacity=%llu expected %u..2^32", (unsigned long long)o->capacity, 2 * MIN_HALF);
    return SHMLINK_ERR_ARGUMENT;
  }
  shmlink_peer *p = calloc(1, sizeof *p);
  if (p == NULL) {
    set_error(NULL, err, errlen, "out of memory");
    return SHMLINK_ERR_SYSTEM;
  }
  snprintf(p->name, sizeof p->name, "%s", o->name);
  p->fd = -1;
  p->me = (uint32_t)getpid();
  p->my_start = process_start_time(0);
  p->max_message = o->max_message_size != 0 ? o->max_message_size : DEFAULT_MAX_MESSAGE;
  p->check_ms = o->peer_check_interval_ms != 0 ? o->peer_check_interval_ms : DEFAULT_CHECK_MS;
  p->on_error = o->on_error;
  p->ctx = o->ctx;
  p->bad_tail = -1;
  p->wake_delay_ns = env_delay_ns("SHMLINK_TEST_WAKE_DELAY_US");
  p->sleep_delay_ns = env_delay_ns("SHMLINK_TEST_SLEEP_DELAY_US");
  p->bell_w.fd = p->bell_r.fd = -1;

  /* Ringing a doorbell whose listener is gone raises SIGPIPE: it must not end the process. */
  struct sigaction sa;
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) signal(SIGPIPE, SIG_IGN);

  int rc = open_region(p, o->capacity, err, errlen);
  if (rc != SHMLINK_OK) goto fail;
  uint64_t cap = p->capacity;
  if (cap < 2 * MIN_HALF || cap > ((uint64_t)1 << 32)) {
    set_error(p, err, errlen, "region '%s' has %llu bytes, expected %u..2^32", p->name, (unsigned long long)cap, 2 * MIN_HALF);
    rc = SHMLINK_ERR_LAYOUT;
    goto fail;
  }
  void *map = mmap(NULL, (size_t)cap, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
  if (map == MAP_FAILED) {
    set_error(p, err, errlen, "mmap('%s', %llu): %s", p->name, (unsigned long long)cap, strerror(errno));
    rc = SHMLINK_ERR_SYSTEM;
    goto fail;
  }
  p->map = map;

  /* Section 1: the default split, or explicit positions; a half ends at the other half's position
   * if that is higher, else at the end of the mapping. */
  uint64_t middle = cap / 2u / 64u * 64u;
  uint64_t def_write = o->side == 'a' ? 0 : middle, def_read = o->side == 'a' ? middle : 0;
  int64_t wpos = o->write_position >= 0 ? o->write_position : (int64_t)def_write;
  int64_t rpos = o->read_position >= 0 ? o->read_position : (int64_t)def_read;
  if (wpos % 8 != 0 || rpos % 8 != 0 || wpos == rpos || (uint64_t)wpos >= cap || (uint64_t)rpos >= cap) {
    set_error(p, err, errlen, "positions write=%lld read=%lld must differ, be multiples of 8 and lie inside %llu bytes",
              (long long)wpos, (long long)rpos, (unsigned long long)cap);
    rc = SHMLINK_ERR_ARGUMENT;
    goto fail;
  }
  uint64_t wend = rpos > wpos ? (uint64_t)rpos : cap, rend = wpos > rpos ? (uint64_t)wpos : cap;
  uint64_t wsize = wend - (uint64_t)wpos, rsize = rend - (uint64_t)rpos;
  if (wsize < MIN_HALF || rsize < MIN_HALF) {
    set_error(p, err, errlen, "halves of %llu and %llu bytes: each needs at least %u", (unsigned long long)wsize, (unsigned long long)rsize, MIN_HALF);
    rc = SHMLINK_ERR_ARGUMENT;
    goto fail;
  }
  half_init(&p->wr, p->map, (uint32_t)wpos, (uint32_t)wsize);
  half_init(&p->rd, p->map, (uint32_t)rpos, (uint32_t)rsize);

  /* Section 2.1: check both descriptors someone wrote before writing either, so that a side with
   * the wrong positions never writes a header into the middle of a live ring. */
  if ((rc = verify_header(p, &p->wr, err, errlen)) != SHMLINK_OK) goto fail;
  if ((rc = verify_header(p, &p->rd, err, errlen)) != SHMLINK_OK) goto fail;
  if ((rc = initialize_header(p, &p->wr, err, errlen)) != SHMLINK_OK) goto fail;
  if ((rc = initialize_header(p, &p->rd, err, errlen)) != SHMLINK_OK) goto fail;

  /* Section 5: the producer slot of the half we write, the consumer slot of the half we read. */
  uint32_t holder = claim_slot(p, &p->wr, SLOT_PRODUCER);
  if (holder == 0) {
    holder = claim_slot(p, &p->rd, SLOT_CONSUMER);
    if (holder != 0) leave_slot(p, &p->wr, SLOT_PRODUCER);
  }
  if (holder != 0) {
    set_error(p, err, errlen, "side '%c' of '%s' is in use by pid %u", o->side, p->name, holder);
    rc = SHMLINK_ERR_IN_USE;
    goto fail;
  }
  recover_tail(p);
  recover_head(p);
  /* Both doorbell rings go to the peer's bell: keyed by the half it reads, the one we write. */
  bell_init(&p->bell_w, p->name, p->wr.base);
  bell_init(&p->bell_r, p->name, p->wr.base);
  /* Wake the peer's reader so that it notices us at once. */
  wake_if_sleeping(p, &p->wr, OFF_CONSUMER_SLEEPING, &p->bell_w);
  *out = p;
  return SHMLINK_OK;

fail:
  if (p->map != NULL) munmap(p->map, (size_t)p->capacity);
  if (p->fd >= 0) close(p->fd);
  free(p);
  return rc;
}

/* ---- Producer (sections 2.4, 3, 4) ----------------------------------------------------------- */

/* The high half of a frame's type word: the lap of its cursor (section 2.3). */
static uint32_t lap_bits(const struct half *h, uint64_t cursor) {
  return (uint32_t)((cursor / h->ring_size) & 0xffffu) << LAP_SHIFT;
}

static void put_frame(struct half *h, uint64_t tail, uint32_t type, uint32_t total, int begin, const uint8_t *src, uint32_t n) {
  uint8_t *f = h->ring + tail % h->ring_size;
  uint32_t prefix = begin ? BEGIN_PREFIX : 0;
  ring_wr32(f, prefix + n);
  ring_wr32(f + 4, type | lap_bits(h, tail));
  if (begin) {
    ring_wr32(f + 8, total);
    ring_wr32(f + 12, 0);
  }
  if (n > 0) memcpy(f + FRAME_HEADER + prefix, src, n);
}

/* A PADDING frame filling the `size` bytes to the ring's end; its body is never written. */
static void put_padding(struct half *h, uint64_t tail, uint64_t size) {
  uint8_t *f = h->ring + tail % h->ring_size;
  ring_wr32(f, (uint32_t)(size - FRAME_HEADER));
  ring_wr32(f + 4, T_PADDING | lap_bits(h, tail));
}

int shmlink_send(shmlink_peer *p, const void *data, size_t len, int64_t timeout_ms) {
  if (len > p->max_message) {
    set_error(p, NULL, 0, "message of %zu bytes exceeds max_message_size=%u", len, p->max_message);
    return SHMLINK_ERR_TOO_LARGE;
  }
  struct half *h = &p->wr;
  const uint8_t *bytes = data;
  const uint64_t rs = h->ring_size, mp = h->max_payload, wrap = h->wrap;
  const int64_t deadline = timeout_ms < 0 ? -1 : now_ns() + timeout_ms * 1000000LL;
  uint64_t sent = 0;
  int begun = 0, done = 0;

  for (;;) {
    uint32_t head = load(h, OFF_HEAD);
    uint64_t used = used_bytes(h, p->tail, head);
    uint64_t free_space;
    if (!cursor_ok(h, head) || used > rs) {
      notice(p, SHMLINK_NOTICE_CORRUPT, "consumer cursor head=%u is invalid for tail=%llu ringSize=%llu; ring reset",
             head, (unsigned long long)p->tail, (unsigned long long)rs);
      p->tail = cursor_ok(h, head) ? head : 0;
      store(h, OFF_TAIL, (uint32_t)p->tail);
      free_space = rs;
      sent = 0; /* what was written is lost: the message starts over */
      begun = 0;
    } else {
      free_space = rs - used;
    }
    const uint64_t start = p->tail;

    /* Write as many frames of this message as fit (section 2.4). */
    for (;;) {
      uint64_t index = p->tail % rs, contiguous = rs - index, remaining = len - sent;
      if (!begun && remaining <= mp) { /* one MESSAGE frame (possibly empty) */
        uint64_t size = align8(FRAME_HEADER + remaining);
        if (size > contiguous) {
          if (free_space < contiguous + size) break;
          put_padding(h, p->tail, contiguous);
          p->tail = (p->tail + contiguous) % wrap;
          free_space -= contiguous;
          continue;
        }
        if (free_space < size) break;
        put_frame(h, p->tail, T_MESSAGE, 0, 0, bytes, (uint32_t)remaining);
        p->tail = (p->tail + size) % wrap;
        free_space -= size;
        done = 1;
        break;
      }
      /* A fragment: as much as the contiguous free space takes, at least 64 bytes unless less is left. */
      uint64_t prefix = begun ? 0 : BEGIN_PREFIX;
      int64_t room = (int64_t)(free_space < contiguous ? free_space : contiguous);
      int64_t overhead = (int64_t)(FRAME_HEADER + prefix);
      uint64_t wanted = remaining < mp - prefix ? remaining : mp - prefix;
      int64_t least = (int64_t)(wanted < 64 ? wanted : 64);
      if (room - overhead < least) {
        if (contiguous < free_space && contiguous < rs) { /* pad to the ring's end and go on at 0 */
          put_padding(h, p->tail, contiguous);
          p->tail = (p->tail + contiguous) % wrap;
          free_space -= contiguous;
          continue;
        }
        break;
      }
      uint64_t chunk = wanted < (uint64_t)(room - overhead) ? wanted : (uint64_t)(room - overhead);
      uint32_t type = !begun ? T_BEGIN : chunk == remaining ? T_END : T_CONTINUE;
      put_frame(h, p->tail, type, (uint32_t)len, !begun, bytes + sent, (uint32_t)chunk);
      uint64_t size = align8((uint64_t)overhead + chunk);
      p->tail = (p->tail + size) % wrap;
      free_space -= size;
      sent += chunk;
      begun = 1;
      if (type == T_END) {
        done = 1;
        break;
      }
    }

    /* One store publishes every frame written above; then wake the consumer if it sleeps. Also
     * when our tail word holds garbage: the consumer ignores it until we store another value. */
    if (p->tail != start || load(h, OFF_TAIL) != (uint32_t)p->tail) {
      store(h, OFF_TAIL, (uint32_t)p->tail);
      wake_if_sleeping(p, h, OFF_CONSUMER_SLEEPING, &p->bell_w);
    }
    if (done) return SHMLINK_OK;

    /* Wait for space: announce (1), re-check the head, sleep on the flag while it still holds 1. */
    if (is_interrupted(p)) return SHMLINK_INTERRUPTED;
    int64_t now = now_ns(), slice = (int64_t)p->check_ms * 1000000LL;
    if (deadline >= 0) {
      if (now >= deadline) return SHMLINK_TIMEOUT;
      if (deadline - now < slice) slice = deadline - now;
    }
    store(h, OFF_PRODUCER_WAITING, SLEEP_FUTEX);
    if (load(h, OFF_HEAD) == head && !is_interrupted(p)) {
      stat_add(&p->stats.sleeps);
      test_delay(p->sleep_delay_ns);
      futex_wait(word(h, OFF_PRODUCER_WAITING), SLEEP_FUTEX, slice);
    }
    store(h, OFF_PRODUCER_WAITING, SLEEP_AWAKE);
  }
}

/* ---- Consumer (sections 2.4, 2.5, 3, 4, 6) --------------------------------------------------- */

static void drop_partial(shmlink_peer *p) {
  free(p->part.buf);
  memset(&p->part, 0, sizeof p->part);
}

static void publish_head(shmlink_peer *p) {
  store(&p->rd, OFF_HEAD, (uint32_t)p->head);
  wake_if_sleeping(p, &p->rd, OFF_PRODUCER_WAITING, &p->bell_r);
}

/* Recovery from garbage: report, drop the partial message, skip everything published so far (or,
 * if the tail itself is invalid, keep the head and ignore that tail value until it changes). */
static void corrupt(shmlink_peer *p, uint32_t tail, const char *why) {
  notice(p, SHMLINK_NOTICE_CORRUPT, "ring of half at %u in '%s': %s", p->rd.base, p->name, why);
  drop_partial(p);
  if (cursor_ok(&p->rd, tail)) p->head = tail;
  else p->bad_tail = tail;
  publish_head(p);
}

enum { FRAME_BAD = -1, FRAME_NONE = 0, FRAME_MESSAGE = 1 };

static int ensure_out(shmlink_peer *p, size_t n) {
  if (n <= p->out_cap && p->out != NULL) return 1;
  uint8_t *b = realloc(p->out, n > 0 ? n : 1);
  if (b == NULL) return 0;
  p->out = b;
  p->out_cap = n > 0 ? n : 1;
  return 1;
}

/* One checked frame (not PADDING); `why` receives the reason of a FRAME_BAD. */
static int take_frame(shmlink_peer *p, uint32_t type, const uint8_t *body, uint32_t length, char *why, size_t whylen) {
  switch (type) {
    case T_MESSAGE:
      drop_partial(p); /* a message being reassembled was abandoned */
      p->orphan_reported = 0;
      if (!ensure_out(p, length)) {
        notice(p, SHMLINK_NOTICE_TOO_LARGE, "incoming message of %u bytes skipped: out of memory", length);
        return FRAME_NONE;
      }
      if (length > 0) memcpy(p->out, body, length);
      p->out_len = length;
      return FRAME_MESSAGE;
    case T_BEGIN: {
      if (length < BEGIN_PREFIX) {
        snprintf(why, whylen, "begin frame of %u bytes has no total length", length);
        return FRAME_BAD;
      }
      uint32_t total = ring_rd32(body), piece = length - BEGIN_PREFIX;
      if (total <= piece) {
        snprintf(why, whylen, "begin frame total=%u is not larger than its fragment=%u", total, piece);
        return FRAME_BAD;
      }
      drop_partial(p);
      p->orphan_reported = 0;
      p->part.active = 1;
      p->part.filled = piece;
      p->part.total = total;
      if (total > p->max_message || (p->part.buf = malloc(total)) == NULL) {
        p->part.skipping = 1;
        notice(p, SHMLINK_NOTICE_TOO_LARGE, "incoming message of %u bytes skipped: exceeds max_message_size=%u", total, p->max_message);
        return FRAME_NONE;
      }
      memcpy(p->part.buf, body + BEGIN_PREFIX, piece);
      return FRAME_NONE;
    }
    case T_CONTINUE:
    case T_END: {
      if (!p->part.active) {
        /* We never saw its BEGIN: the reader before us left mid-message. Ask the producer to send
         * it again (section 6), before the head passes this frame. */
        if (!p->orphan_reported) {
          p->orphan_reported = 1;
          store(&p->rd, OFF_ORPHAN, (uint32_t)(p->head + 1));
        }
        return FRAME_NONE;
      }
      if (p->part.filled + length > p->part.total) {
        snprintf(why, whylen, "fragments add up to more than the announced total=%llu", (unsigned long long)p->part.total);
        return FRAME_BAD;
      }
      if (p->part.buf != NULL && length > 0) memcpy(p->part.buf + p->part.filled, body, length);
      p->part.filled += length;
      if (type == T_CONTINUE) return FRAME_NONE;
      if (p->part.filled != p->part.total) {
        snprintf(why, whylen, "message ended at %llu of its announced %llu bytes", (unsigned long long)p->part.filled,
                 (unsigned long long)p->part.total);
        return FRAME_BAD;
      }
      if (p->part.skipping) {
        drop_partial(p);
        return FRAME_NONE;
      }
      free(p->out);
      p->out = p->part.buf;
      p->out_cap = p->out_len = (size_t)p->part.total;
      p->part.buf = NULL;
      drop_partial(p);
      return FRAME_MESSAGE;
    }
    default:
      snprintf(why, whylen, "unknown frame type=%u", type);
      return FRAME_BAD;
  }
}

/* Consumes published frames up to the first complete message (1) or the tail (0). The head is
 * stored before the message is handed over, so a restarted consumer never receives it again. */
static int consume(shmlink_peer *p, uint32_t tail) {
  struct half *h = &p->rd;
  const uint64_t rs = h->ring_size;
  char why[256];
  uint64_t used = used_bytes(h, tail, p->head);
  if (!cursor_ok(h, tail) || used > rs) {
    snprintf(why, sizeof why, "producer cursor tail=%u is invalid for head=%llu ringSize=%llu", tail, (unsigned long long)p->head,
             (unsigned long long)rs);
    corrupt(p, tail, why);
    return 0;
  }
  while (used > 0) {
    uint64_t index = p->head % rs, to_end = rs - index;
    uint64_t avail = used < to_end ? used : to_end;
    const uint8_t *f = h->ring + index;
    uint32_t length = ring_rd32(f), word = ring_rd32(f + 4), type = word & TYPE_MASK;
    uint64_t step;
    int got = FRAME_NONE;
    if ((word >> LAP_SHIFT) != ((p->head / rs) & 0xffffu)) {
      snprintf(why, sizeof why, "frame at cursor %llu is from lap %u, expected lap %llu", (unsigned long long)p->head, word >> LAP_SHIFT,
               (unsigned long long)((p->head / rs) & 0xffffu));
      corrupt(p, tail, why);
      return 0;
    }
    if (type == T_PADDING) {
      if (align8(FRAME_HEADER + (uint64_t)length) != to_end) {
        snprintf(why, sizeof why, "padding frame of %u bytes at ring index %llu does not end at the ring's end", length, (unsigned long long)index);
        corrupt(p, tail, why);
        return 0;
      }
      if (to_end > used) {
        snprintf(why, sizeof why, "padding frame at ring index %llu runs past the published tail", (unsigned long long)index);
        corrupt(p, tail, why);
        return 0;
      }
      step = to_end;
    } else {
      if (length > h->max_payload) {
        snprintf(why, sizeof why, "frame length=%u exceeds the largest frame payload=%u", length, h->max_payload);
        corrupt(p, tail, why);
        return 0;
      }
      step = align8(FRAME_HEADER + (uint64_t)length);
      if (step > avail) {
        snprintf(why, sizeof why, "frame of %llu bytes at ring index %llu crosses the published tail or the ring's end", (unsigned long long)step,
                 (unsigned long long)index);
        corrupt(p, tail, why);
        return 0;
      }
      got = take_frame(p, type, f + FRAME_HEADER, length, why, sizeof why);
      if (got == FRAME_BAD) {
        corrupt(p, tail, why);
        return 0;
      }
    }
    p->head = (p->head + step) % h->wrap;
    used -= step;
    if (got == FRAME_MESSAGE) {
      publish_head(p);
      return 1;
    }
  }
  publish_head(p);
  return 0;
}

/* Whether the peer (the producer of the half we read), once seen attached, has left or died. */
static int peer_gone(shmlink_peer *p) {
  const struct half *h = &p->rd;
  uint32_t pid = load(h, OFF_PRODUCER_PID), state = load(h, OFF_PRODUCER_STATE), epoch = load(h, OFF_PRODUCER_EPOCH);
  if (state == STATE_ATTACHED && pid != 0 && pid != p->me) {
    int same = p->peer_seen && pid == p->peer_pid && epoch == p->peer_epoch;
    int64_t now = now_ns();
    if (same && now - p->last_liveness_ns < (int64_t)p->check_ms * 1000000LL) return 0;
    p->last_liveness_ns = now;
    uint64_t start = slot_start(h, SLOT_PRODUCER);
    if (process_alive(pid, start)) {
      p->peer_seen = 1;
      p->peer_pid = pid;
      p->peer_epoch = epoch;
      p->peer_start = start;
      return 0;
    }
    return p->peer_seen;
  }
  return state == STATE_LEFT && p->peer_seen;
}

int shmlink_receive(shmlink_peer *p, const uint8_t **data, size_t *len, int64_t timeout_ms) {
  struct half *h = &p->rd;
  const int64_t deadline = timeout_ms < 0 ? -1 : now_ns() + timeout_ms * 1000000LL;
  for (;;) {
    uint32_t tail = load(h, OFF_TAIL);
    if (tail != p->head && (int64_t)tail != p->bad_tail) {
      p->bad_tail = -1;
      if (consume(p, tail)) {
        *data = p->out;
        *len = p->out_len;
        return SHMLINK_OK;
      }
      continue;
    }
    if (is_interrupted(p)) return SHMLINK_INTERRUPTED;
    if (peer_gone(p)) return SHMLINK_PEER_GONE;
    int64_t now = now_ns(), slice = (int64_t)p->check_ms * 1000000LL;
    if (deadline >= 0) {
      if (now >= deadline) return SHMLINK_TIMEOUT;
      if (deadline - now < slice) slice = deadline - now;
    }
    /* Announce (1), re-check the tail, sleep on the flag while it still holds 1 (section 4). */
    uint32_t wait_value = p->bad_tail >= 0 ? (uint32_t)p->bad_tail : (uint32_t)p->head;
    store(h, OFF_CONSUMER_SLEEPING, SLEEP_FUTEX);
    if (load(h, OFF_TAIL) == wait_value && !is_interrupted(p)) {
      stat_add(&p->stats.sleeps);
      test_delay(p->sleep_delay_ns);
      futex_wait(word(h, OFF_CONSUMER_SLEEPING), SLEEP_FUTEX, slice);
    }
    store(h, OFF_CONSUMER_SLEEPING, SLEEP_AWAKE);
  }
}

/* ---- Ending ---------------------------------------------------------------------------------- */

void shmlink_interrupt(shmlink_peer *p) {
  __atomic_store_n(&p->interrupted, 1, __ATOMIC_SEQ_CST);
  /* Our own sleeps, woken as a peer would wake them: a sleeper that announced before it could see
   * `interrupted` loses its announcement here, so its wait returns even if it has not begun. */
  if (cas(&p->rd, OFF_CONSUMER_SLEEPING, SLEEP_FUTEX, SLEEP_AWAKE)) futex_wake(word(&p->rd, OFF_CONSUMER_SLEEPING));
  if (cas(&p->wr, OFF_PRODUCER_WAITING, SLEEP_FUTEX, SLEEP_AWAKE)) futex_wake(word(&p->wr, OFF_PRODUCER_WAITING));
}

void shmlink_close(shmlink_peer *p) {
  if (p == NULL) return;
  leave_slot(p, &p->wr, SLOT_PRODUCER);
  leave_slot(p, &p->rd, SLOT_CONSUMER);
  wake_if_sleeping(p, &p->wr, OFF_CONSUMER_SLEEPING, &p->bell_w);
  /* We own no doorbell (we only sleep on futexes). The last side to leave removes the name once
   * everything it wrote has been read, and with it any doorbell a dead peer left behind. */
  uint32_t peer_pid = load(&p->rd, OFF_PRODUCER_PID), peer_state = load(&p->rd, OFF_PRODUCER_STATE);
  int peer_here = peer_state == STATE_ATTACHED && peer_pid != p->me && process_exists(peer_pid);
  uint32_t head = load(&p->wr, OFF_HEAD);
  if (!peer_here && cursor_ok(&p->wr, head) && used_bytes(&p->wr, p->tail, head) == 0) {
    char os_name[MAX_NAME + 2];
    snprintf(os_name, sizeof os_name, "/%s", p->name);
    shm_unlink(os_name);
    unlink(p->bell_w.path);
    char other[300];
    snprintf(other, sizeof other, "/dev/shm/%s@%u.bell", p->name, p->rd.base);
    unlink(other);
  }
  bell_close(&p->bell_w);
  bell_close(&p->bell_r);
  drop_partial(p);
  free(p->out);
  munmap(p->map, (size_t)p->capacity);
  close(p->fd);
  free(p);
}

void shmlink_get_stats(const shmlink_peer *p, shmlink_stats *out) {
  out->futex_wakes = __atomic_load_n(&p->stats.futex_wakes, __ATOMIC_RELAXED);
  out->doorbell_rings = __atomic_load_n(&p->stats.doorbell_rings, __ATOMIC_RELAXED);
  out->sleeps = __atomic_load_n(&p->stats.sleeps, __ATOMIC_RELAXED);
  out->corrupt = __atomic_load_n(&p->stats.corrupt, __ATOMIC_RELAXED);
  out->too_large = __atomic_load_n(&p->stats.too_large, __ATOMIC_RELAXED);
}

void shmlink_get_geometry(const shmlink_peer *p, shmlink_geometry *out) {
  out->capacity = p->capacity;
  out->write_base = p->wr.base;
  out->write_size = p->wr.size;
  out->read_base = p->rd.base;
  out->read_size = p->rd.size;
  out->ring_size = p->wr.ring_size;
  out->max_frame_payload = p->wr.max_payload;
}

const char *shmlink_error(const shmlink_peer *p) { return p->error; }
