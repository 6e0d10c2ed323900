/*
 * kt/bytes.h: big-endian integers in byte buffers (network order, as in
 * every kt wire and storage format: entries, cosignatures, tile bundles,
 * LMDB keys). Callers check the buffer length first.
 */
#ifndef KT_BYTES_H
#define KT_BYTES_H

#include <stdint.h>

/* p[0..8) = v, most significant byte first. */
static inline void
kt_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

/* The value of p[0..8), most significant byte first. */
static inline uint64_t
kt_get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* p[0..2) = v, most significant byte first. */
static inline void
kt_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The value of p[0..2), most significant byte first. */
static inline uint16_t
kt_get_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

#endif /* KT_BYTES_H */
