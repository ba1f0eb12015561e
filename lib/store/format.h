/* On-disk format constants (docs/FORMAT.md is the byte-by-byte reference). */
#ifndef PD_FORMAT_H
#define PD_FORMAT_H

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "libprivdomain maps columns directly: little-endian hosts only"
#endif

#define PD_FORMAT_VERSION 1 /* of every file below; a newer one is refused */

/* MANIFEST: which log generation and which sealed segment are current. */
#define PD_MANIFEST_MAGIC "PDMANIF\0"
#define PD_MANIFEST_SIZE 48

/* wal-<generation>.log */
#define PD_WAL_MAGIC "PDWAL\0\0\0"
#define PD_WAL_HEADER_SIZE 32
#define PD_BLOCK_HEADER_SIZE 12 /* u32 kind, u32 payload length, u32 chained crc */
#define PD_BLOCK_DATA 1
#define PD_BLOCK_COMMIT 2
#define PD_BLOCK_MAX (64u << 20) /* a larger length is corruption, not data */
#define PD_WAL_FLUSH_BYTES (1u << 20)

/* seg-<generation>.pds */
#define PD_SEG_MAGIC "PDSEG\0\0\0"
#define PD_SEG_HEADER_SIZE 256
#define PD_SEG_ALIGN 64
#define PD_SEG_CHUNK (1u << 20) /* data is checksummed per chunk, so errors name an offset */

enum pd_seg_section {
  PD_SEC_DICT = 0,
  PD_SEC_USER_OFF, /* u64[n_users + 1] */
  PD_SEC_TIME,     /* i64[n_events] */
  PD_SEC_TYPE,     /* u16[n_events] */
  PD_SEC_TP,       /* u32[n_events] */
  PD_SEC_REF,      /* u32[n_events] */
  PD_SEC_AMOUNT,   /* i64[n_events] */
  PD_SEC_CRCS,     /* u32 per PD_SEG_CHUNK of the file from data_start on */
  PD_SEC_COUNT
};

#endif
