/*
 * peer — a command-line C peer for a shmlink conversation (see README.md in this directory).
 *
 *   peer --name NAME --side a|b [--capacity BYTES] [--write-position N --read-position N]
 *        [--echo [--count N] | --send N [--sizes S1,S2,...] [--seed K]] [--say TEXT]...
 *        [--check-ms MS] [--max-message BYTES] [--timeout MS]
 *
 * Prints "ready pid=... ring=... frame=..." once attached, then
 *   --echo   sends every received message back (until --count messages, SIGTERM/SIGINT, or the
 *            peer leaves);
 *   --send N sends N numbered messages (sizes cycling through --sizes) from the main thread while a
 *            second thread receives and checks N identical replies.
 * Each --say TEXT is sent first, as a message of its bytes (in --send mode it is expected back too).
 * Ends with a "done ..." line (counts, and longest_wait_us: the longest receive after the first
 * message) and leaves in an orderly way. Exit status: 0 success, 1 a failed
 * check or operation, 2 usage or attach error.
 *
 * Message `seq` of stream `seed` with `size` bytes: byte j is (seq*31 + j*7 + (j>>8)*13 + seed) &
 * 0xff, except that bytes 0..3 hold seq (u32 little-endian) when size >= 4.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shmlink_peer.h"

#define MAX_SAYS 16
#define MAX_SIZES 64

static shmlink_peer *volatile g_peer;

static void on_signal(int sig) {
  (void)sig;
  shmlink_peer *p = g_peer;
  if (p != NULL) shmlink_interrupt(p);
}

static void on_error(void *ctx, int notice, const char *message) {
  (void)ctx;
  fprintf(stderr, "peer: %s: %s\n", notice == SHMLINK_NOTICE_CORRUPT ? "ERR_CORRUPT" : "ERR_MESSAGE_TOO_LARGE", message);
}

static const char *status_name(int rc) {
  switch (rc) {
    case SHMLINK_OK: return "ok";
    case SHMLINK_TIMEOUT: return "timeout";
    case SHMLINK_INTERRUPTED: return "interrupted";
    case SHMLINK_PEER_GONE: return "peer-gone";
    case SHMLINK_ERR_TOO_LARGE: return "too-large";
    default: return "error";
  }
}

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The longest a successful receive took after the first message: a lost wake-up shows as a wait
 * of a whole sleep slice (--check-ms) while the peer keeps sending. */
struct wait_meter {
  int64_t longest_us;
  int started;
};

static int metered_receive(shmlink_peer *p, struct wait_meter *m, const uint8_t **data, size_t *len, int64_t timeout_ms) {
  int64_t t0 = now_us();
  int rc = shmlink_receive(p, data, len, timeout_ms);
  if (rc == SHMLINK_OK) {
    int64_t took = now_us() - t0;
    if (m->started && took > m->longest_us) m->longest_us = took;
    m->started = 1;
  }
  return rc;
}

static void make_message(uint8_t *out, uint32_t seed, uint32_t seq, size_t size) {
  for (size_t j = 0; j < size; j++) out[j] = (uint8_t)(seq * 31u + (uint32_t)j * 7u + (uint32_t)(j >> 8) * 13u + seed);
  if (size >= 4) memcpy(out, &seq, 4);
}

struct config {
  uint32_t count_sends;
  int64_t echo_count;
  uint32_t seed;
  size_t sizes[MAX_SIZES];
  int nsizes;
  const char *says[MAX_SAYS];
  int nsays;
  int64_t timeout_ms;
};

struct receiver {
  shmlink_peer *peer;
  const struct config *cfg;
  uint64_t received;
  uint64_t bad;
  int status;
  struct wait_meter meter;
  char problem[256];
};

static void *receive_replies(void *arg) {
  struct receiver *r = arg;
  const struct config *cfg = r->cfg;
  uint64_t expected = (uint64_t)cfg->nsays + cfg->count_sends;
  size_t max_size = 0;
  for (int i = 0; i < cfg->nsizes; i++) if (cfg->sizes[i] > max_size) max_size = cfg->sizes[i];
  uint8_t *want = malloc(max_size > 0 ? max_size : 1);
  r->status = SHMLINK_OK;
  while (r->received < expected) {
    const uint8_t *data;
    size_t len;
    int rc = metered_receive(r->peer, &r->meter, &data, &len, cfg->timeout_ms);
    if (rc != SHMLINK_OK) {
      r->status = rc;
      break;
    }
    uint64_t i = r->received++;
    const char *problem = NULL;
    char buf[160];
    if (i < (uint64_t)cfg->nsays) {
      size_t n = strlen(cfg->says[i]);
      if (len != n || memcmp(data, cfg->says[i], n) != 0) problem = "a --say reply differs";
    } else {
      uint32_t seq = (uint32_t)(i - (uint64_t)cfg->nsays);
      size_t size = cfg->sizes[seq % (uint32_t)cfg->nsizes];
      make_message(want, cfg->seed, seq, size);
      if (len != size) {
        snprintf(buf, sizeof buf, "reply %u: length %zu expected %zu", seq, len, size);
        problem = buf;
      } else if (size > 0 && memcmp(data, want, size) != 0) {
        snprintf(buf, sizeof buf, "reply %u: content differs", seq);
        problem = buf;
      }
    }
    if (problem != NULL && r->bad++ == 0) snprintf(r->problem, sizeof r->problem, "%s", problem);
  }
  free(want);
  return NULL;
}

static int parse_sizes(const char *s, struct config *cfg) {
  cfg->nsizes = 0;
  while (*s != '\0') {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno != 0 || cfg->nsizes == MAX_SIZES || v > 0xFFFFFFFFull) return 0;
    cfg->sizes[cfg->nsizes++] = (size_t)v;
    s = end;
    if (*s == ',') s++;
    else if (*s != '\0') return 0;
  }
  return cfg->nsizes > 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: peer --name NAME --side a|b [--capacity BYTES] [--write-position N --read-position N]\n"
          "            [--echo [--count N] | --send N [--sizes S1,S2,...] [--seed K]] [--say TEXT]...\n"
          "            [--check-ms MS] [--max-message BYTES] [--timeout MS]\n");
}

int main(int argc, char **argv) {
  shmlink_options o;
  shmlink_options_init(&o);
  o.on_error = on_error;
  struct config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.echo_count = -1;
  cfg.timeout_ms = -1;
  cfg.sizes[0] = 0, cfg.sizes[1] = 1, cfg.sizes[2] = 100, cfg.nsizes = 3;
  int send_mode = 0;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEXT() \
  do { \
    if (v == NULL) { usage(); return 2; } \
    i++; \
  } while (0)
    if (strcmp(a, "--name") == 0) { NEXT(); o.name = v; }
    else if (strcmp(a, "--side") == 0) { NEXT(); o.side = v[0] != '\0' && v[1] == '\0' ? v[0] : '?'; }
    else if (strcmp(a, "--capacity") == 0) { NEXT(); o.capacity = strtoull(v, NULL, 10); }
    else if (strcmp(a, "--write-position") == 0) { NEXT(); o.write_position = strtoll(v, NULL, 10); }
    else if (strcmp(a, "--read-position") == 0) { NEXT(); o.read_position = strtoll(v, NULL, 10); }
    else if (strcmp(a, "--echo") == 0) { send_mode = 0; }
    else if (strcmp(a, "--count") == 0) { NEXT(); cfg.echo_count = strtoll(v, NULL, 10); }
    else if (strcmp(a, "--send") == 0) { NEXT(); send_mode = 1; cfg.count_sends = (uint32_t)strtoul(v, NULL, 10); }
    else if (strcmp(a, "--sizes") == 0) { NEXT(); if (!parse_sizes(v, &cfg)) { usage(); return 2; } }
    else if (strcmp(a, "--seed") == 0) { NEXT(); cfg.seed = (uint32_t)strtoul(v, NULL, 10); }
    else if (strcmp(a, "--say") == 0) { NEXT(); if (cfg.nsays == MAX_SAYS) { usage(); return 2; } cfg.says[cfg.nsays++] = v; }
    else if (strcmp(a, "--check-ms") == 0) { NEXT(); o.peer_check_interval_ms = (uint32_t)strtoul(v, NULL, 10); }
    else if (strcmp(a, "--max-message") == 0) { NEXT(); o.max_message_size = (uint32_t)strtoul(v, NULL, 10); }
    else if (strcmp(a, "--timeout") == 0) { NEXT(); cfg.timeout_ms = strtoll(v, NULL, 10); }
    else { usage(); return 2; }
#undef NEXT
  }
  if (o.name == NULL) {
    usage();
    return 2;
  }

  /* SIGTERM/SIGINT interrupt every wait; the peer then leaves in an orderly way. No SA_RESTART. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  char err[512];
  shmlink_peer *p;
  int rc = shmlink_open(&o, &p, err, sizeof err);
  if (rc != SHMLINK_OK) {
    fprintf(stderr, "peer: %s\n", err);
    printf("failed %s\n", err);
    fflush(stdout);
    return 2;
  }
  g_peer = p;
  shmlink_geometry g;
  shmlink_get_geometry(p, &g);
  printf("ready pid=%d side=%c capacity=%" PRIu64 " write=%u read=%u ring=%u frame=%u\n", (int)getpid(), o.side, g.capacity, g.write_base,
         g.read_base, g.ring_size, g.max_frame_payload);
  fflush(stdout);

  int failed = 0;
  const char *ended = "ok";
  uint64_t sent = 0, received = 0, bad = 0;
  struct wait_meter meter = {0, 0};
  char problem[256] = "";

  if (!send_mode) {
    for (int i = 0; i < cfg.nsays && !failed; i++) {
      rc = shmlink_send(p, cfg.says[i], strlen(cfg.says[i]), cfg.timeout_ms);
      if (rc != SHMLINK_OK) failed = 1, ended = status_name(rc);
      else sent++;
    }
    while (!failed && (cfg.echo_count < 0 || (int64_t)received < cfg.echo_count)) {
      const uint8_t *data;
      size_t len;
      rc = metered_receive(p, &meter, &data, &len, cfg.timeout_ms);
      if (rc == SHMLINK_INTERRUPTED || rc == SHMLINK_PEER_GONE) {
        ended = status_name(rc);
        break;
      }
      if (rc != SHMLINK_OK) {
        failed = 1, ended = status_name(rc);
        break;
      }
      received++;
      rc = shmlink_send(p, data, len, cfg.timeout_ms);
      if (rc == SHMLINK_INTERRUPTED) {
        ended = status_name(rc);
        break;
      }
      if (rc != SHMLINK_OK) failed = 1, ended = status_name(rc);
      else sent++;
    }
  } else {
    /* The replies are received by a second thread (the consumer of the half we read) so that
     * neither direction waits for the other; it leaves the signals to this thread. */
    struct receiver r;
    memset(&r, 0, sizeof r);
    r.peer = p;
    r.cfg = &cfg;
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    pthread_t thread;
    int trc = pthread_create(&thread, NULL, receive_replies, &r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (trc != 0) {
      fprintf(stderr, "peer: pthread_create: %s\n", strerror(trc));
      shmlink_close(p);
      return 2;
    }
    size_t max_size = 0;
    for (int i = 0; i < cfg.nsizes; i++) if (cfg.sizes[i] > max_size) max_size = cfg.sizes[i];
    uint8_t *msg = malloc(max_size > 0 ? max_size : 1);
    for (int i = 0; i < cfg.nsays && !failed; i++) {
      rc = shmlink_send(p, cfg.says[i], strlen(cfg.says[i]), cfg.timeout_ms);
      if (rc != SHMLINK_OK) failed = 1, ended = status_name(rc);
      else sent++;
    }
    for (uint32_t seq = 0; seq < cfg.count_sends && !failed; seq++) {
      size_t size = cfg.sizes[seq % (uint32_t)cfg.nsizes];
      make_message(msg, cfg.seed, seq, size);
      rc = shmlink_send(p, msg, size, cfg.timeout_ms);
      if (rc != SHMLINK_OK) failed = 1, ended = status_name(rc);
      else sent++;
    }
    free(msg);
    if (failed) shmlink_interrupt(p); /* the replies will not all come */
    pthread_join(thread, NULL);
    received = r.received;
    bad = r.bad;
    meter = r.meter;
    snprintf(problem, sizeof problem, "%s", r.problem);
    if (!failed && r.status != SHMLINK_OK) failed = 1, ended = status_name(r.status);
    if (bad > 0) failed = 1;
  }

  shmlink_stats st;
  shmlink_get_stats(p, &st);
  g_peer = NULL;
  shmlink_close(p);
  printf("done %s sent=%" PRIu64 " received=%" PRIu64 " bad=%" PRIu64 " corrupt=%" PRIu64 " too_large=%" PRIu64 " futex_wakes=%" PRIu64
         " doorbell_rings=%" PRIu64 " sleeps=%" PRIu64 " longest_wait_us=%" PRId64 " problem=%s\n",
         ended, sent, received, bad, st.corrupt, st.too_large, st.futex_wakes, st.doorbell_rings, st.sleeps, meter.longest_us,
         problem[0] ? problem : "none");
  fflush(stdout);
  return failed ? 1 : 0;
}
