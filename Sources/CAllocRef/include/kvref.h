// The allocator of kvscope's pool in plain C, as a yardstick for `kvscope bench alloc`: the same
// algorithm (a free bitmask of 64-bit words with summary levels and a cursor at the lowest word that
// may hold a free frame, the lowest free frame taken first, refcounts, a checked free) without the
// facts the engine records. Used by the benchmark only.
#ifndef KVREF_H
#define KVREF_H

#include <stdint.h>

#define KVREF_MAX_LEVELS 8

typedef struct {
  int64_t count;
  int64_t population;
  int64_t first_candidate_word;
  int levels;
  int64_t offsets[KVREF_MAX_LEVELS];
  int64_t sizes[KVREF_MAX_LEVELS];
  uint64_t *words;
  int32_t *refs;
} kvref_pool;

/// Makes a pool of `count` free frames (1 to 2^36). Returns 0, or -1 when memory runs out.
int kvref_pool_init(kvref_pool *pool, int64_t count);

void kvref_pool_destroy(kvref_pool *pool);

/// Hands out the lowest free frame with refcount 1, or returns -1 when none is free.
int64_t kvref_alloc(kvref_pool *pool);

/// Drops one reference; at zero the frame is free again. Returns -1 (and changes nothing) for a frame
/// outside the pool or one already free.
int kvref_free(kvref_pool *pool, int64_t frame);

/// Runs `pairs` alloc + free pairs and returns the sum of the frames handed out.
int64_t kvref_pairs(kvref_pool *pool, int64_t pairs);

#endif
