#include "kvref.h"

#include <stdlib.h>

int kvref_pool_init(kvref_pool *pool, int64_t count) {
  int64_t total = 0;
  int64_t bits = count;
  pool->levels = 0;
  do {
    int64_t size = bits > 64 ? (bits + 63) / 64 : 1;
    pool->offsets[pool->levels] = total;
    pool->sizes[pool->levels] = size;
    pool->levels += 1;
    total += size;
    bits = size;
  } while (bits > 1 && pool->levels < KVREF_MAX_LEVELS);
  pool->words = malloc((size_t)total * sizeof(uint64_t));
  pool->refs = calloc((size_t)count, sizeof(int32_t));
  if (pool->words == NULL || pool->refs == NULL) {
    free(pool->words);
    free(pool->refs);
    return -1;
  }
  // Every level all set up to its number of bits: frames below, non-empty words above.
  bits = count;
  for (int level = 0; level < pool->levels; level++) {
    uint64_t *words = pool->words + pool->offsets[level];
    for (int64_t i = 0; i < pool->sizes[level]; i++) words[i] = ~UINT64_C(0);
    if (bits % 64 != 0) words[pool->sizes[level] - 1] = (UINT64_C(1) << (bits % 64)) - 1;
    bits = pool->sizes[level];
  }
  pool->count = count;
  pool->population = count;
  pool->first_candidate_word = 0;
  return 0;
}

void kvref_pool_destroy(kvref_pool *pool) {
  free(pool->words);
  free(pool->refs);
  pool->words = NULL;
  pool->refs = NULL;
}

static inline void mask_insert(kvref_pool *pool, int64_t frame) {
  if ((frame >> 6) < pool->first_candidate_word) pool->first_candidate_word = frame >> 6;
  int64_t index = frame;
  for (int level = 0; level < pool->levels; level++) {
    uint64_t *word = pool->words + pool->offsets[level] + (index >> 6);
    uint64_t bit = UINT64_C(1) << (index & 63);
    uint64_t before = *word;
    if (before & bit) return;
    *word = before | bit;
    if (level == 0) pool->population += 1;
    if (before != 0) return;
    index >>= 6;
  }
}

static inline void mask_remove(kvref_pool *pool, int64_t frame) {
  int64_t index = frame;
  for (int level = 0; level < pool->levels; level++) {
    uint64_t *word = pool->words + pool->offsets[level] + (index >> 6);
    uint64_t bit = UINT64_C(1) << (index & 63);
    uint64_t before = *word;
    if (!(before & bit)) return;
    uint64_t after = before & ~bit;
    *word = after;
    if (level == 0) pool->population -= 1;
    if (after != 0) return;
    index >>= 6;
  }
}

static inline int64_t alloc_inline(kvref_pool *pool) {
  if (pool->population == 0) return -1;
  int64_t word = pool->first_candidate_word;
  if (pool->words[word] == 0) {
    word = 0;
    for (int level = pool->levels - 1; level >= 1; level--) {
      word = word * 64 + __builtin_ctzll(pool->words[pool->offsets[level] + word]);
    }
    pool->first_candidate_word = word;
  }
  int64_t index = word * 64 + __builtin_ctzll(pool->words[word]);
  mask_remove(pool, index);
  pool->refs[index] = 1;
  return index;
}

static inline int free_inline(kvref_pool *pool, int64_t frame) {
  if (frame < 0 || frame >= pool->count || pool->refs[frame] <= 0) return -1;
  pool->refs[frame] -= 1;
  if (pool->refs[frame] == 0) mask_insert(pool, frame);
  return 0;
}

int64_t kvref_alloc(kvref_pool *pool) { return alloc_inline(pool); }

int kvref_free(kvref_pool *pool, int64_t frame) { return free_inline(pool, frame); }

int64_t kvref_pairs(kvref_pool *pool, int64_t pairs) {
  int64_t checksum = 0;
  for (int64_t i = 0; i < pairs; i++) {
    int64_t frame = alloc_inline(pool);
    checksum += frame;
    free_inline(pool, frame);
  }
  return checksum;
}
