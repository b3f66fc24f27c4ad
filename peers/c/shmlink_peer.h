/*
 * shmlink_peer — a C peer for the shmlink communicator protocol (docs/protocol.md, layout version 3).
 *
 * One side of a conversation: it writes one half of the region and reads the other. Blocking
 * waits sleep on a futex on their flag word (flag value 1); wakes honour both futex (1) and
 * doorbell (2) sleepers, so a Node.js Communicator on the other side may use its event reader or
 * receiveSync/writeSync.
 *
 * Threads: shmlink_send() and shmlink_receive() may run concurrently, each in one thread (the
 * protocol allows one producer and one consumer per half). shmlink_interrupt() is
 * async-signal-safe. Linux only; little-endian hosts only.
 *
 * shmlink_open() ignores SIGPIPE if it is at its default: ringing a doorbell whose listener just
 * went away must not kill the process.
 */
#ifndef SHMLINK_PEER_H
#define SHMLINK_PEER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum shmlink_status {
  SHMLINK_OK = 0,
  SHMLINK_TIMEOUT = 1,      /* nothing arrived / no room within the timeout */
  SHMLINK_INTERRUPTED = 2,  /* shmlink_interrupt() was called */
  SHMLINK_PEER_GONE = 3,    /* receive: the ring is empty and the peer left or died */
  SHMLINK_ERR_ARGUMENT = -1,
  SHMLINK_ERR_SYSTEM = -2,  /* a system call failed (see shmlink_error()) */
  SHMLINK_ERR_LAYOUT = -3,  /* ERR_LAYOUT_MISMATCH: the region's geometry differs from ours */
  SHMLINK_ERR_IN_USE = -4,  /* our side is held by a live process */
  SHMLINK_ERR_TOO_LARGE = -5 /* send: the message exceeds max_message_size */
};

/* Reported through on_error while the channel carries on (docs/protocol.md section 6). */
enum shmlink_notice {
  SHMLINK_NOTICE_CORRUPT = 1,      /* ERR_CORRUPT: garbage in the ring or a cursor */
  SHMLINK_NOTICE_TOO_LARGE = 2     /* ERR_MESSAGE_TOO_LARGE: an incoming message was skipped */
};

typedef struct shmlink_options {
  const char *name;          /* 1..200 of [A-Za-z0-9._-], not starting with '.' or '-', no ".." */
  char side;                 /* 'a' writes [0, M) and reads [M, capacity); 'b' the reverse */
  uint64_t capacity;         /* bytes, used when this call creates the region; 0: open only */
  int64_t read_position;     /* -1: the default split of `side`; otherwise multiples of 8 */
  int64_t write_position;
  uint32_t max_message_size; /* 0: 64 MiB */
  uint32_t peer_check_interval_ms; /* longest single sleep; 0: 250 */
  void (*on_error)(void *ctx, int notice, const char *message); /* may be NULL */
  void *ctx;
} shmlink_options;

/* Fills the defaults (side 'a', positions -1, everything else 0). */
void shmlink_options_init(shmlink_options *o);

typedef struct shmlink_stats {
  uint64_t futex_wakes;      /* futex_wake calls for a peer that slept with flag 1 */
  uint64_t doorbell_rings;   /* bytes written to the peer's doorbell (flag 2) */
  uint64_t sleeps;           /* our futex sleeps (for data or for space) */
  uint64_t corrupt;          /* ERR_CORRUPT notices */
  uint64_t too_large;        /* incoming messages skipped */
} shmlink_stats;

typedef struct shmlink_geometry {
  uint64_t capacity;
  uint32_t write_base, write_size, read_base, read_size;
  uint32_t ring_size;          /* of the half this side writes */
  uint32_t max_frame_payload;  /* of the half this side writes */
} shmlink_geometry;

typedef struct shmlink_peer shmlink_peer;

/*
 * Opens (or creates) the region, initialises or checks both half headers, claims the producer slot
 * of the half we write and the consumer slot of the half we read, and wakes the peer's reader.
 * Returns SHMLINK_OK and *out, or an error with a message in err.
 */
int shmlink_open(const shmlink_options *o, shmlink_peer **out, char *err, size_t errlen);

/* Sends one message, waiting (futex) for room; timeout_ms < 0 waits forever. A message that times
 * out or is interrupted after its first fragment is abandoned: the reader discards it. */
int shmlink_send(shmlink_peer *p, const void *data, size_t len, int64_t timeout_ms);

/* Receives the next message; *data stays valid until the next shmlink_receive(). */
int shmlink_receive(shmlink_peer *p, const uint8_t **data, size_t *len, int64_t timeout_ms);

/* Makes every current and future wait return SHMLINK_INTERRUPTED. Async-signal-safe. */
void shmlink_interrupt(shmlink_peer *p);

/* Leaves in an orderly way (state 2 in both slots, wakes the peer's reader), removes the region's
 * name if we leave last and the peer read everything, unmaps and frees. */
void shmlink_close(shmlink_peer *p);

void shmlink_get_stats(const shmlink_peer *p, shmlink_stats *out);
void shmlink_get_geometry(const shmlink_peer *p, shmlink_geometry *out);
/* The last error message (system errors, layout mismatches). */
const char *shmlink_error(const shmlink_peer *p);

#ifdef __cplusplus
}
#endif

#endif /* SHMLINK_PEER_H */
