/* test_image.c - valid and hostile PNG, JPEG and WebP inputs for image_check, and image_png_add_text. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <zlib.h>

#include "ih_error.h"
#include "image.h"

/* 24x9 baseline JPEG, restart interval 1 (RSTn and FF00 in the scan), made with libjpeg 6b API */
static const unsigned char jpeg_rst[987] = {
	0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01,
	0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43,
	0x00, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01, 0x01, 0x01, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x04, 0x03, 0x02, 0x02, 0x02, 0x02, 0x05, 0x04,
	0x04, 0x03, 0x04, 0x06, 0x05, 0x06, 0x06, 0x06, 0x05, 0x06, 0x06, 0x06,
	0x07, 0x09, 0x08, 0x06, 0x07, 0x09, 0x07, 0x06, 0x06, 0x08, 0x0b, 0x08,
	0x09, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x06, 0x08, 0x0b, 0x0c, 0x0b, 0x0a,
	0x0c, 0x09, 0x0a, 0x0a, 0x0a, 0xff, 0xdb, 0x00, 0x43, 0x01, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x05, 0x03, 0x03, 0x05, 0x0a, 0x07, 0x06, 0x07,
	0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
	0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
	0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
	0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
	0x0a, 0x0a, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x09, 0x00, 0x18, 0x03,
	0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xc4, 0x00,
	0x1f, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
	0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0xff, 0xc4, 0x00, 0xb5, 0x10, 0x00,
	0x02, 0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00,
	0x00, 0x01, 0x7d, 0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21,
	0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81,
	0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24,
	0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25,
	0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a,
	0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56,
	0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
	0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86,
	0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
	0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3,
	0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6,
	0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9,
	0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1,
	0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xff, 0xc4, 0x00,
	0x1f, 0x01, 0x00, 0x03, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
	0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0xff, 0xc4, 0x00, 0xb5, 0x11, 0x00,
	0x02, 0x01, 0x02, 0x04, 0x04, 0x03, 0x04, 0x07, 0x05, 0x04, 0x04, 0x00,
	0x01, 0x02, 0x77, 0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31,
	0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13, 0x22, 0x32, 0x81, 0x08,
	0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15,
	0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18,
	0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39,
	0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55,
	0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
	0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84,
	0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
	0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa,
	0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4,
	0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
	0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea,
	0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xff, 0xdd, 0x00,
	0x04, 0x00, 0x01, 0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11,
	0x03, 0x11, 0x00, 0x3f, 0x00, 0xe4, 0xef, 0xfc, 0x1c, 0xda, 0x46, 0xae,
	0x3e, 0x25, 0xfc, 0x34, 0xd2, 0xa1, 0x79, 0x62, 0xd5, 0x0c, 0x27, 0xc1,
	0xeb, 0xe1, 0xfb, 0xe8, 0x2c, 0x2d, 0xb5, 0x07, 0xba, 0xd3, 0xed, 0xe3,
	0x8e, 0xc0, 0x58, 0x9f, 0x3a, 0x69, 0x9c, 0x1b, 0x88, 0x1a, 0xfe, 0xea,
	0x5f, 0x2d, 0xcb, 0xdb, 0x33, 0xdc, 0x33, 0xdb, 0xec, 0x8b, 0xbb, 0xd0,
	0x3c, 0x53, 0xf0, 0x67, 0xc2, 0xab, 0xe1, 0x1f, 0x0a, 0x6b, 0xc7, 0x4b,
	0xd4, 0xac, 0x44, 0x02, 0x1d, 0x7a, 0xdf, 0x51, 0xd3, 0xac, 0xec, 0x6d,
	0xac, 0xae, 0xee, 0x31, 0x2c, 0x6e, 0xf7, 0x91, 0xc1, 0x2c, 0xa2, 0x3b,
	0x80, 0xb6, 0x51, 0xa5, 0xb5, 0x8c, 0x30, 0xcb, 0x1c, 0xf1, 0xc6, 0x93,
	0xc8, 0xbb, 0xae, 0xb1, 0xf2, 0x66, 0xad, 0xff, 0x00, 0x1e, 0x56, 0x7f,
	0xf6, 0x50, 0x35, 0xff, 0x00, 0xfd, 0x19, 0xab, 0x57, 0xd5, 0x5f, 0xb4,
	0x7f, 0xfc, 0x8f, 0xbe, 0x14, 0xfa, 0x5f, 0x7f, 0xe8, 0xff, 0x00, 0x10,
	0xd7, 0xb5, 0x99, 0x60, 0xa7, 0x3c, 0x26, 0x1d, 0xe2, 0xe4, 0xa7, 0x2a,
	0x6e, 0x6a, 0x93, 0x8a, 0x74, 0xe5, 0x4d, 0xac, 0x25, 0x1c, 0x64, 0xa4,
	0xa4, 0xa4, 0xe5, 0xcc, 0xdd, 0x66, 0xa1, 0x28, 0xb8, 0x4e, 0x9d, 0x44,
	0xeb, 0x73, 0x4b, 0x9b, 0x91, 0x7e, 0x93, 0x57, 0x80, 0xa8, 0xe6, 0x58,
	0xd8, 0xd1, 0xaf, 0x5d, 0xf3, 0x4e, 0x69, 0x37, 0x15, 0x6b, 0x2f, 0xad,
	0x4e, 0x9b, 0xe5, 0x5c, 0xcd, 0xab, 0xef, 0xa3, 0xd1, 0x39, 0x25, 0x66,
	0xd4, 0xa3, 0xff, 0xd0, 0xe9, 0x45, 0xf7, 0x83, 0xfe, 0x25, 0x7c, 0x1c,
	0xbc, 0x1e, 0x25, 0xf1, 0x2f, 0xc2, 0xad, 0x0d, 0x75, 0x4b, 0x76, 0xd4,
	0xf4, 0x3b, 0x1d, 0x0f, 0x4f, 0x5d, 0x23, 0x5b, 0xd4, 0x9d, 0xa1, 0xf2,
	0xc4, 0x28, 0xd6, 0x96, 0xb7, 0x28, 0xb7, 0xd1, 0x2a, 0x4e, 0x5a, 0x30,
	0x9e, 0x67, 0x98, 0xb0, 0xbf, 0x92, 0x07, 0x98, 0x93, 0x95, 0xf4, 0x27,
	0x88, 0xbf, 0xe4, 0xee, 0x3e, 0x21, 0xff, 0x00, 0xb9, 0xa7, 0x7f, 0x39,
	0x68, 0xaf, 0x8a, 0xe2, 0x2c, 0xda, 0x87, 0x02, 0x55, 0xfa, 0x8b, 0x8d,
	0x4a, 0x97, 0x93, 0x93, 0x74, 0xeb, 0xcf, 0x0c, 0x9b, 0x95, 0x3a, 0x53,
	0xbf, 0x25, 0x1b, 0x46, 0xea, 0x33, 0x8c, 0x1b, 0xea, 0xe0, 0xe5, 0xa3,
	0x93, 0x4b, 0xf2, 0x9c, 0x27, 0x8a, 0x79, 0x96, 0x5d, 0x5e, 0x59, 0x5f,
	0x23, 0x6a, 0x10, 0xa3, 0x57, 0x99, 0x4a, 0x0a, 0xee, 0xb5, 0x18, 0x49,
	0xdd, 0x3a, 0x52, 0x77, 0x4e, 0x3a, 0xbe, 0x6b, 0x3d, 0x3d, 0xd5, 0x67,
	0x7f, 0xff, 0xd9,
};

/* 11x6 greyscale progressive JPEG (several SOS), made with Pillow */
static const unsigned char jpeg_prog[291] = {
	0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01,
	0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43,
	0x00, 0x0d, 0x09, 0x0a, 0x0b, 0x0a, 0x08, 0x0d, 0x0b, 0x0a, 0x0b, 0x0e,
	0x0e, 0x0d, 0x0f, 0x13, 0x20, 0x15, 0x13, 0x12, 0x12, 0x13, 0x27, 0x1c,
	0x1e, 0x17, 0x20, 0x2e, 0x29, 0x31, 0x30, 0x2e, 0x29, 0x2d, 0x2c, 0x33,
	0x3a, 0x4a, 0x3e, 0x33, 0x36, 0x46, 0x37, 0x2c, 0x2d, 0x40, 0x57, 0x41,
	0x46, 0x4c, 0x4e, 0x52, 0x53, 0x52, 0x32, 0x3e, 0x5a, 0x61, 0x5a, 0x50,
	0x60, 0x4a, 0x51, 0x52, 0x4f, 0xff, 0xc2, 0x00, 0x0b, 0x08, 0x00, 0x06,
	0x00, 0x0b, 0x01, 0x01, 0x11, 0x00, 0xff, 0xc4, 0x00, 0x15, 0x00, 0x01,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x04, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00,
	0x00, 0x00, 0x01, 0xa1, 0xff, 0xc4, 0x00, 0x16, 0x10, 0x00, 0x03, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x02, 0x14, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01,
	0x05, 0x02, 0x81, 0x08, 0x10, 0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x10, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x06, 0x3f,
	0x02, 0x3f, 0xff, 0xc4, 0x00, 0x15, 0x10, 0x01, 0x01, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x71, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x3f, 0x21, 0x82,
	0x0f, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x00, 0x10, 0x3f,
	0xff, 0xc4, 0x00, 0x16, 0x10, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x61, 0x91,
	0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x01, 0x3f, 0x10, 0x64, 0x8c,
	0x93, 0xff, 0xd9,
};

/* 7x5 lossless WebP (simple format, VP8L), made with Pillow */
static const unsigned char webp_vp8l[82] = {
	0x52, 0x49, 0x46, 0x46, 0x4a, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50,
	0x56, 0x50, 0x38, 0x4c, 0x3e, 0x00, 0x00, 0x00, 0x2f, 0x06, 0x00, 0x01,
	0x00, 0x27, 0xa0, 0x90, 0x6d, 0x04, 0x38, 0xe4, 0x31, 0x8b, 0xdd, 0xa3,
	0x90, 0x6d, 0x04, 0x38, 0xe4, 0x31, 0x8b, 0xdd, 0xa3, 0x90, 0x6d, 0x04,
	0x38, 0xe4, 0x31, 0x8b, 0xdd, 0x33, 0xff, 0x01, 0x54, 0xfd, 0xb7, 0x8d,
	0x0a, 0x06, 0x02, 0x10, 0xcd, 0xa2, 0x0e, 0xb8, 0xe0, 0x82, 0x0b, 0x22,
	0xfa, 0x1f, 0x00, 0x60, 0x9b, 0x49, 0xd4, 0xf6, 0xb6, 0x3d,
};

/* 9x6 lossy WebP (simple format, VP8), made with Pillow */
static const unsigned char webp_vp8[116] = {
	0x52, 0x49, 0x46, 0x46, 0x6c, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50,
	0x56, 0x50, 0x38, 0x20, 0x60, 0x00, 0x00, 0x00, 0xd0, 0x01, 0x00, 0x9d,
	0x01, 0x2a, 0x09, 0x00, 0x06, 0x00, 0x03, 0x80, 0x5a, 0x25, 0xb0, 0x02,
	0x74, 0x00, 0xdc, 0x78, 0x32, 0x30, 0xa0, 0x00, 0xf6, 0xad, 0x39, 0x29,
	0xe8, 0xe8, 0x6e, 0xf2, 0x21, 0x6b, 0x7f, 0xc2, 0x9e, 0x21, 0x83, 0x46,
	0x11, 0x1a, 0x7c, 0x7e, 0x9c, 0x07, 0x9f, 0xfd, 0x06, 0xf0, 0x5f, 0x87,
	0xbe, 0xfc, 0x53, 0xbc, 0x2a, 0xda, 0xc8, 0xff, 0xfb, 0xa9, 0xf2, 0x73,
	0xef, 0x36, 0x54, 0x40, 0x9f, 0x0f, 0x78, 0xbb, 0x6b, 0x0f, 0xa7, 0xf1,
	0x7f, 0x89, 0xa7, 0xfa, 0xf3, 0x16, 0xd2, 0x1e, 0x31, 0x65, 0xea, 0x65,
	0xa8, 0x5d, 0x9d, 0xab, 0x26, 0x00, 0x00, 0x00,
};

/* 7x5 lossy WebP with alpha (extended format: VP8X, ALPH, VP8), made with Pillow */
static const unsigned char webp_vp8x[88] = {
	0x52, 0x49, 0x46, 0x46, 0x50, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50,
	0x56, 0x50, 0x38, 0x58, 0x0a, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,
	0x06, 0x00, 0x00, 0x04, 0x00, 0x00, 0x41, 0x4c, 0x50, 0x48, 0x0a, 0x00,
	0x00, 0x00, 0x01, 0x07, 0x50, 0xb2, 0x88, 0x08, 0x44, 0x44, 0xff, 0x03,
	0x56, 0x50, 0x38, 0x20, 0x20, 0x00, 0x00, 0x00, 0x90, 0x01, 0x00, 0x9d,
	0x01, 0x2a, 0x07, 0x00, 0x05, 0x00, 0x03, 0x80, 0x5a, 0x25, 0xa4, 0x00,
	0x02, 0xe6, 0x9b, 0xdb, 0x90, 0x00, 0xfe, 0x79, 0x3f, 0x23, 0x05, 0x9e,
	0x00, 0x00, 0x00, 0x00,
};

/* ---- helpers: byte buffers ------------------------------------------------- */

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void set_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void set_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static unsigned char *dup_bytes(const unsigned char *p, size_t n)
{
	unsigned char *q = malloc(n ? n : 1);

	assert_non_null(q);
	if (n)
		memcpy(q, p, n);
	return q;
}

/*
 * image_check on an exact-size heap copy, so that AddressSanitizer and
 * valgrind flag any read one byte past the end.
 */
static int check_lim(const unsigned char *d, size_t n, const struct image_limits *lim,
		     struct image_info *info)
{
	unsigned char *copy = dup_bytes(d, n);
	struct image_info scratch;
	int rc = image_check(n ? copy : NULL, n, lim, info ? info : &scratch);

	free(copy);
	return rc;
}

static int check(const unsigned char *d, size_t n)
{
	return check_lim(d, n, NULL, NULL);
}

/* Replaces [at, at + cut) of buf with add[0..alen); returns a new buffer. */
static unsigned char *splice(const unsigned char *buf, size_t len, size_t at, size_t cut,
			     const unsigned char *add, size_t alen, size_t *out_len)
{
	unsigned char *q;

	assert_true(at + cut <= len);
	q = malloc(len - cut + alen);
	assert_non_null(q);
	memcpy(q, buf, at);
	if (alen)
		memcpy(q + at, add, alen);
	memcpy(q + at + alen, buf + at + cut, len - at - cut);
	*out_len = len - cut + alen;
	return q;
}

/* ---- helpers: PNG ---------------------------------------------------------- */

struct membuf {
	unsigned char *p;
	size_t len, cap;
};

static void mb_write(png_structp png, png_bytep data, size_t n)
{
	struct membuf *mb = png_get_io_ptr(png);

	if (mb->len + n > mb->cap) {
		size_t cap = mb->cap ? mb->cap : 1024;

		while (cap < mb->len + n)
			cap *= 2;
		mb->p = realloc(mb->p, cap);
		assert_non_null(mb->p);
		mb->cap = cap;
	}
	memcpy(mb->p + mb->len, data, n);
	mb->len += n;
}

static void mb_flush(png_structp png)
{
	(void)png;
}

/* Writes a real w x h PNG with libpng; text chunks (may be NULL) go before IDAT. */
static unsigned char *make_png_ex(uint32_t w, uint32_t h, int ct, int depth, int interlace,
				  png_text *text, int ntext, size_t *len)
{
	struct membuf *mb = calloc(1, sizeof(*mb));
	png_structp png;
	png_infop info;
	unsigned char *row, *out;
	size_t rowbytes, i;
	int pass, passes;
	uint32_t y;

	assert_non_null(mb);
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	assert_non_null(png);
	info = png_create_info_struct(png);
	assert_non_null(info);
	if (setjmp(png_jmpbuf(png)))
		fail_msg("libpng could not write the test image");
	png_set_write_fn(png, mb, mb_write, mb_flush);
	png_set_IHDR(png, info, w, h, depth, ct, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	if (ct == PNG_COLOR_TYPE_PALETTE) {
		png_color pal[4] = { { 0, 0, 0 }, { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 } };

		png_set_PLTE(png, info, pal, depth == 1 ? 2 : 4);
	}
	if (text)
		png_set_text(png, info, text, ntext);
	png_write_info(png, info);
	rowbytes = png_get_rowbytes(png, info);
	row = malloc(rowbytes);
	assert_non_null(row);
	passes = png_set_interlace_handling(png);
	for (pass = 0; pass < passes; pass++) {
		for (y = 0; y < h; y++) {
			for (i = 0; i < rowbytes; i++) {
				if (ct == PNG_COLOR_TYPE_PALETTE)
					row[i] = depth == 8 ? (unsigned char)((i + y) & 3) : 0x11;
				else
					row[i] = (unsigned char)(i * 7 + y * 13);
			}
			png_write_row(png, row);
		}
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	free(row);
	out = mb->p;
	*len = mb->len;
	free(mb);
	return out;
}

static unsigned char *make_png(uint32_t w, uint32_t h, size_t *len)
{
	return make_png_ex(w, h, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, NULL, 0, len);
}

/* Offset of the nth (0-based) chunk of this type, or 0 if there is none. */
static size_t find_chunk(const unsigned char *png, size_t len, const char *type, int nth)
{
	size_t pos = 8;

	while (pos + 12 <= len) {
		uint32_t clen = get_be32(png + pos);

		if (memcmp(png + pos + 4, type, 4) == 0 && nth-- == 0)
			return pos;
		pos += 12 + (size_t)clen;
	}
	return 0;
}

static void fix_crc(unsigned char *png, size_t off)
{
	uint32_t clen = get_be32(png + off);

	set_be32(png + off + 8 + clen, (uint32_t)crc32(0L, png + off + 4, clen + 4));
}

/* Inserts a chunk with a correct CRC at byte offset at; returns a new buffer. */
static unsigned char *insert_chunk(const unsigned char *png, size_t len, size_t at,
				   const char *type, const void *data, size_t dlen, size_t *out_len)
{
	unsigned char *c = malloc(dlen + 12), *out;

	assert_non_null(c);
	set_be32(c, (uint32_t)dlen);
	memcpy(c + 4, type, 4);
	if (dlen)
		memcpy(c + 8, data, dlen);
	fix_crc(c, 0);
	out = splice(png, len, at, 0, c, dlen + 12, out_len);
	free(c);
	return out;
}

/* Inserts right after IHDR (signature 8 + IHDR chunk 25). */
static unsigned char *add_chunk(const unsigned char *png, size_t len, const char *type,
				const void *data, size_t dlen, size_t *out_len)
{
	return insert_chunk(png, len, 33, type, data, dlen, out_len);
}

/* In-place helper: replaces *png with a version that has one more chunk after IHDR. */
static void add_chunk_inplace(unsigned char **png, size_t *len, const char *type,
			      const void *data, size_t dlen)
{
	size_t nlen;
	unsigned char *n = add_chunk(*png, *len, type, data, dlen, &nlen);

	free(*png);
	*png = n;
	*len = nlen;
}

/* A zlib stream of n zero bytes: Z_RLE makes it fast and about 1000:1. */
static unsigned char *deflate_zeros(size_t n, size_t *clen)
{
	static const unsigned char zero[65536];
	z_stream zs;
	size_t cap = n / 200 + 4096, left = n;
	unsigned char *out = malloc(cap);
	int ret;

	assert_non_null(out);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 15, 9, Z_RLE), Z_OK);
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	do {
		size_t chunk = left < sizeof(zero) ? left : sizeof(zero);

		zs.next_in = (Bytef *)(uintptr_t)zero;
		zs.avail_in = (uInt)chunk;
		left -= chunk;
		ret = deflate(&zs, left ? Z_NO_FLUSH : Z_FINISH);
		assert_true(ret == Z_OK || ret == Z_STREAM_END);
		assert_int_equal(zs.avail_in, 0);
		assert_true(zs.avail_out > 0);
	} while (left);
	assert_int_equal(ret, Z_STREAM_END);
	*clen = zs.total_out;
	assert_int_equal(deflateEnd(&zs), Z_OK);
	return out;
}

/* Builds "prefix" + zlib(payload) into a new buffer (for zTXt, iCCP, iTXt bodies). */
static unsigned char *with_prefix(const void *prefix, size_t plen, const unsigned char *z,
				  size_t zlen, size_t *out_len)
{
	unsigned char *out = malloc(plen + zlen);

	assert_non_null(out);
	memcpy(out, prefix, plen);
	memcpy(out + plen, z, zlen);
	*out_len = plen + zlen;
	return out;
}

static unsigned char *zlib_of(const void *src, size_t n, size_t *zlen)
{
	uLongf cap = compressBound((uLong)n);
	unsigned char *out = malloc(cap);

	assert_non_null(out);
	assert_int_equal(compress2(out, &cap, src, (uLong)n, 9), Z_OK);
	*zlen = cap;
	return out;
}

/* ---- PNG: valid images ----------------------------------------------------- */

static void test_sniff_ext_mime(void **state)
{
	static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };

	(void)state;
	assert_int_equal(image_sniff(png_sig, 8), IMAGE_PNG);
	assert_int_equal(image_sniff(png_sig, 7), IMAGE_UNKNOWN);
	assert_int_equal(image_sniff((const unsigned char *)"\xFF\xD8\xFF", 3), IMAGE_JPEG);
	assert_int_equal(image_sniff((const unsigned char *)"\xFF\xD8\xFE", 3), IMAGE_UNKNOWN);
	assert_int_equal(image_sniff((const unsigned char *)"RIFF\0\0\0\0WEBP", 12), IMAGE_WEBP);
	assert_int_equal(image_sniff((const unsigned char *)"RIFF\0\0\0\0WAVE", 12), IMAGE_UNKNOWN);
	assert_int_equal(image_sniff((const unsigned char *)"GIF89a", 6), IMAGE_GIF);
	assert_int_equal(image_sniff((const unsigned char *)"GIF87a", 6), IMAGE_GIF);
	assert_int_equal(image_sniff((const unsigned char *)"GIF88a", 6), IMAGE_UNKNOWN);
	assert_int_equal(image_sniff((const unsigned char *)"GIF89", 5), IMAGE_UNKNOWN);
	assert_int_equal(image_sniff(NULL, 0), IMAGE_UNKNOWN);
	assert_int_equal(image_sniff(jpeg_rst, sizeof(jpeg_rst)), IMAGE_JPEG);
	assert_int_equal(image_sniff(webp_vp8l, sizeof(webp_vp8l)), IMAGE_WEBP);

	assert_string_equal(image_format_ext(IMAGE_PNG), "png");
	assert_string_equal(image_format_ext(IMAGE_JPEG), "jpg");
	assert_string_equal(image_format_ext(IMAGE_WEBP), "webp");
	assert_string_equal(image_format_ext(IMAGE_UNKNOWN), "bin");
	assert_string_equal(image_format_mime(IMAGE_PNG), "image/png");
	assert_string_equal(image_format_mime(IMAGE_JPEG), "image/jpeg");
	assert_string_equal(image_format_mime(IMAGE_WEBP), "image/webp");
	assert_string_equal(image_format_mime(IMAGE_UNKNOWN), "application/octet-stream");
	assert_string_equal(image_format_mime((enum image_format)42), "application/octet-stream");
}

static void test_empty_and_unknown(void **state)
{
	struct image_info info;

	(void)state;
	assert_int_equal(image_check(NULL, 0, NULL, &info), IH_ERR_EMPTY);
	assert_int_equal(info.format, IMAGE_UNKNOWN);
	assert_int_equal(info.color_type, -1);
	assert_int_equal(check((const unsigned char *)"GIF89a\1\0\1\0", 10), IH_ERR_GIF);
	assert_int_equal(check((const unsigned char *)"GIF", 3), IH_ERR_GIF);
	assert_int_equal(check((const unsigned char *)"BM\0\0\0\0", 6), IH_ERR_UNKNOWN_FORMAT);
	assert_int_equal(check((const unsigned char *)"hello", 5), IH_ERR_UNKNOWN_FORMAT);
	assert_int_equal(check((const unsigned char *)"RIFF\0\0\0\0WAVEfmt ", 16), IH_ERR_UNKNOWN_FORMAT);
	assert_int_equal(check((const unsigned char *)"\0", 1), IH_ERR_UNKNOWN_FORMAT);
}

static void test_png_valid_variants(void **state)
{
	static const struct {
		int ct, depth, interlace;
	} v[] = {
		{ PNG_COLOR_TYPE_GRAY, 1, 0 }, { PNG_COLOR_TYPE_GRAY, 2, 0 },
		{ PNG_COLOR_TYPE_GRAY, 4, 0 }, { PNG_COLOR_TYPE_GRAY, 8, 0 },
		{ PNG_COLOR_TYPE_GRAY, 16, 0 }, { PNG_COLOR_TYPE_RGB, 8, 0 },
		{ PNG_COLOR_TYPE_RGB, 16, 0 }, { PNG_COLOR_TYPE_PALETTE, 1, 0 },
		{ PNG_COLOR_TYPE_PALETTE, 2, 0 }, { PNG_COLOR_TYPE_PALETTE, 4, 0 },
		{ PNG_COLOR_TYPE_PALETTE, 8, 0 }, { PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0 },
		{ PNG_COLOR_TYPE_GRAY_ALPHA, 16, 0 }, { PNG_COLOR_TYPE_RGB_ALPHA, 8, 0 },
		{ PNG_COLOR_TYPE_RGB_ALPHA, 16, 0 }, { PNG_COLOR_TYPE_RGB_ALPHA, 8, 1 },
		{ PNG_COLOR_TYPE_PALETTE, 2, 1 },
	};
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct image_info info;
		unsigned char *png = make_png_ex(13, 7, v[i].ct, v[i].depth, v[i].interlace,
						 NULL, 0, &len);

		assert_int_equal(check_lim(png, len, NULL, &info), IH_OK);
		assert_int_equal(info.format, IMAGE_PNG);
		assert_int_equal(info.width, 13);
		assert_int_equal(info.height, 7);
		assert_int_equal(info.bit_depth, v[i].depth);
		assert_int_equal(info.color_type, v[i].ct);
		assert_int_equal(info.n_keywords, 0);
		assert_int_equal(info.has_parameters, 0);
		free(png);
	}
}

static void test_png_one_pixel_and_limits_exact(void **state)
{
	struct image_limits lim = { 0 };
	struct image_info info;
	unsigned char *png;
	size_t len;

	(void)state;
	png = make_png(1, 1, &len);
	assert_int_equal(check_lim(png, len, NULL, &info), IH_OK);
	assert_int_equal(info.width, 1);
	assert_int_equal(info.height, 1);
	free(png);

	/* exactly at every limit passes; one over fails */
	png = make_png(10, 7, &len);
	lim.max_width = 10;
	lim.max_height = 7;
	lim.max_pixels = 70;
	assert_int_equal(check_lim(png, len, &lim, NULL), IH_OK);
	lim.max_width = 9;
	assert_int_equal(check_lim(png, len, &lim, NULL), IH_ERR_IMAGE_TOO_LARGE);
	lim.max_width = 10;
	lim.max_height = 6;
	assert_int_equal(check_lim(png, len, &lim, NULL), IH_ERR_IMAGE_TOO_LARGE);
	lim.max_height = 7;
	lim.max_pixels = 69;
	assert_int_equal(check_lim(png, len, &lim, &info), IH_ERR_IMAGE_TOO_LARGE);
	/* the dimensions are reported even when they are refused */
	assert_int_equal(info.width, 10);
	assert_int_equal(info.height, 7);
	free(png);
}

/* ---- PNG: hostile images --------------------------------------------------- */

static void test_png_bad_signature(void **state)
{
	unsigned char *png, *bad;
	size_t len, blen, i;

	(void)state;
	png = make_png(4, 4, &len);
	for (i = 0; i < 8; i++) {
		int rc;

		png[i] ^= 0x20;
		rc = check(png, len);
		/* once "\x89PNG" is intact the damage is reported as a PNG signature error */
		assert_int_equal(rc, i < 4 ? IH_ERR_UNKNOWN_FORMAT : IH_ERR_PNG_SIGNATURE);
		png[i] ^= 0x20;
	}
	/* the classic: a text-mode transfer turned CRLF into LF */
	bad = splice(png, len, 4, 1, NULL, 0, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_SIGNATURE);
	free(bad);
	free(png);
}

static void test_png_bad_crc(void **state)
{
	static const char *const types[] = { "IHDR", "IDAT", "IEND", "tEXt" };
	png_text t = { .compression = PNG_TEXT_COMPRESSION_NONE, .key = "Comment", .text = "hi" };
	unsigned char *png;
	size_t len, i;

	(void)state;
	png = make_png_ex(6, 5, PNG_COLOR_TYPE_RGB, 8, 0, &t, 1, &len);
	assert_int_equal(check(png, len), IH_OK);
	for (i = 0; i < 4; i++) {
		size_t off = find_chunk(png, len, types[i], 0);
		uint32_t clen;

		assert_true(off > 0);
		clen = get_be32(png + off);
		/* a flipped bit in the stored CRC */
		png[off + 8 + clen] ^= 0x01;
		assert_int_equal(check(png, len), IH_ERR_PNG_CRC);
		png[off + 8 + clen] ^= 0x01;
		/* a flipped bit in the chunk type */
		png[off + 4] ^= 0x01;
		assert_int_equal(check(png, len), IH_ERR_PNG_CRC);
		png[off + 4] ^= 0x01;
		/* a flipped bit in the data */
		if (clen) {
			png[off + 8 + clen / 2] ^= 0x80;
			assert_int_equal(check(png, len), IH_ERR_PNG_CRC);
			png[off + 8 + clen / 2] ^= 0x80;
		}
	}
	assert_int_equal(check(png, len), IH_OK);
	free(png);
}

/* Every proper prefix of a PNG fails cleanly: each must be rejected, none may crash or over-read. */
static void test_png_truncated_everywhere(void **state)
{
	png_text t[3] = {
		{ .compression = PNG_TEXT_COMPRESSION_NONE, .key = "parameters", .text = "a cat" },
		{ .compression = PNG_TEXT_COMPRESSION_zTXt, .key = "prompt", .text = "{\"1\": {}}" },
		{ .compression = PNG_ITXT_COMPRESSION_zTXt, .key = "workflow", .text = "\xe7\x8c\xab" },
	};
	unsigned char *png;
	size_t len, n;

	(void)state;
	png = make_png_ex(5, 3, PNG_COLOR_TYPE_PALETTE, 2, 0, t, 3, &len);
	assert_int_equal(check(png, len), IH_OK);
	assert_int_equal(check(png, 0), IH_ERR_EMPTY);
	for (n = 1; n < len; n++)
		assert_int_equal(check(png, n), IH_ERR_PNG_TRUNCATED);
	free(png);
}

static void test_png_trailing_garbage(void **state)
{
	unsigned char *png, *bad;
	size_t len, blen;

	(void)state;
	png = make_png(4, 4, &len);
	bad = splice(png, len, len, 0, (const unsigned char *)"\0", 1, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	/* a whole second file appended (polyglot / smuggling) */
	bad = splice(png, len, len, 0, png, len, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	/* a second IEND */
	bad = splice(png, len, len, 0, png + len - 12, 12, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	free(png);
}

static void test_png_missing_chunks(void **state)
{
	unsigned char *png, *bad;
	size_t len, blen, off;

	(void)state;
	png = make_png(4, 4, &len);
	/* no IEND */
	assert_int_equal(check(png, len - 12), IH_ERR_PNG_TRUNCATED);
	/* no IDAT */
	off = find_chunk(png, len, "IDAT", 0);
	bad = splice(png, len, off, 12 + get_be32(png + off), NULL, 0, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	/* no IHDR: the first chunk is IDAT */
	bad = splice(png, len, 8, 25, NULL, 0, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_HEADER);
	free(bad);
	/* only the signature and IEND */
	bad = splice(png, len, 8, len - 20, NULL, 0, &blen);
	assert_int_equal(blen, 20);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_HEADER);
	free(bad);
	free(png);
}

static void test_png_chunk_order(void **state)
{
	unsigned char *png, *bad, *two, *idat;
	size_t len, blen, tlen, off, clen, half;

	(void)state;
	png = make_png(8, 8, &len);

	/* split the one IDAT into two: still valid */
	off = find_chunk(png, len, "IDAT", 0);
	clen = get_be32(png + off);
	half = clen / 2;
	idat = dup_bytes(png + off + 8, clen);
	{
		unsigned char *a;
		size_t alen;

		a = splice(png, len, off, 12 + clen, NULL, 0, &alen);
		two = insert_chunk(a, alen, off, "IDAT", idat + half, clen - half, &tlen);
		free(a);
		a = insert_chunk(two, tlen, off, "IDAT", idat, half, &alen);
		free(two);
		two = a;
		tlen = alen;
	}
	assert_int_equal(check(two, tlen), IH_OK);

	/* IDATs must be consecutive */
	off = find_chunk(two, tlen, "IDAT", 1);
	bad = insert_chunk(two, tlen, off, "tEXt", "k\0v", 3, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);

	/* PLTE after IDAT */
	off = find_chunk(png, len, "IEND", 0);
	bad = insert_chunk(png, len, off, "PLTE", "\0\0\0", 3, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);

	/* a second IHDR */
	bad = insert_chunk(png, len, 33, "IHDR", png + 16, 13, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);

	/* a critical chunk nobody knows must be refused; an ancillary one is fine */
	bad = add_chunk(png, len, "XYZW", "x", 1, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	bad = add_chunk(png, len, "xyZw", "x", 1, &blen);
	assert_int_equal(check(bad, blen), IH_OK);
	free(bad);
	/* chunk type bytes must be letters */
	bad = add_chunk(png, len, "ab1d", "x", 1, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	/* IEND with data */
	off = find_chunk(png, len, "IEND", 0);
	bad = insert_chunk(png, len, off, "IEND", "x", 1, &blen);
	assert_int_equal(check(bad, off + 13), IH_ERR_PNG_CHUNK);
	free(bad);

	free(idat);
	free(two);
	free(png);
}

static void test_png_palette_rules(void **state)
{
	unsigned char *png, *bad;
	size_t len, blen, off;

	(void)state;
	png = make_png_ex(4, 4, PNG_COLOR_TYPE_PALETTE, 8, 0, NULL, 0, &len);
	assert_int_equal(check(png, len), IH_OK);
	/* palette image without PLTE */
	off = find_chunk(png, len, "PLTE", 0);
	bad = splice(png, len, off, 12 + get_be32(png + off), NULL, 0, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	/* PLTE twice */
	bad = insert_chunk(png, len, off, "PLTE", "\0\0\0", 3, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	free(png);

	/* PLTE in a greyscale image, and PLTE of a length not a multiple of 3 */
	png = make_png_ex(4, 4, PNG_COLOR_TYPE_GRAY, 8, 0, NULL, 0, &len);
	bad = add_chunk(png, len, "PLTE", "\0\0\0", 3, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	free(png);
	png = make_png(4, 4, &len);
	bad = add_chunk(png, len, "PLTE", "\0\0\0\0", 4, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	/* a suggested palette in an RGB image is legal */
	bad = add_chunk(png, len, "PLTE", "\0\0\0", 3, &blen);
	assert_int_equal(check(bad, blen), IH_OK);
	free(bad);
	free(png);
}

/* Rewrites IHDR fields (with a correct CRC) and checks the verdict. */
static void expect_ihdr(const unsigned char *png, size_t len, uint32_t w, uint32_t h, int depth,
			int ct, int comp, int filter, int interlace, int want)
{
	unsigned char *bad = dup_bytes(png, len);

	set_be32(bad + 16, w);
	set_be32(bad + 20, h);
	bad[24] = (unsigned char)depth;
	bad[25] = (unsigned char)ct;
	bad[26] = (unsigned char)comp;
	bad[27] = (unsigned char)filter;
	bad[28] = (unsigned char)interlace;
	fix_crc(bad, 8);
	assert_int_equal(check(bad, len), want);
	free(bad);
}

static void test_png_bad_ihdr(void **state)
{
	unsigned char *png, *bad;
	size_t len, blen;

	(void)state;
	png = make_png(4, 4, &len);
	expect_ihdr(png, len, 4, 4, 8, 2, 0, 0, 0, IH_OK);
	expect_ihdr(png, len, 0, 4, 8, 2, 0, 0, 0, IH_ERR_PNG_HEADER);
	expect_ihdr(png, len, 4, 0, 8, 2, 0, 0, 0, IH_ERR_PNG_HEADER);
	expect_ihdr(png, len, 0x80000000u, 4, 8, 2, 0, 0, 0, IH_ERR_PNG_HEADER);
	expect_ihdr(png, len, 4, 0xFFFFFFFFu, 8, 2, 0, 0, 0, IH_ERR_PNG_HEADER);
	expect_ihdr(png, len, 4, 4, 4, 2, 0, 0, 0, IH_ERR_PNG_HEADER);   /* RGB at 4 bits */
	expect_ihdr(png, len, 4, 4, 16, 3, 0, 0, 0, IH_ERR_PNG_HEADER);  /* palette at 16 */
	expect_ihdr(png, len, 4, 4, 3, 0, 0, 0, 0, IH_ERR_PNG_HEADER);   /* grey at 3 */
	expect_ihdr(png, len, 4, 4, 8, 1, 0, 0, 0, IH_ERR_PNG_HEADER);   /* colour type 1 */
	expect_ihdr(png, len, 4, 4, 8, 7, 0, 0, 0, IH_ERR_PNG_HEADER);
	expect_ihdr(png, len, 4, 4, 8, 2, 1, 0, 0, IH_ERR_PNG_HEADER);   /* compression */
	expect_ihdr(png, len, 4, 4, 8, 2, 0, 1, 0, IH_ERR_PNG_HEADER);   /* filter */
	expect_ihdr(png, len, 4, 4, 8, 2, 0, 0, 2, IH_ERR_PNG_HEADER);   /* interlace */
	/* legal PNG dimensions over our limits */
	expect_ihdr(png, len, 0x7FFFFFFFu, 1, 8, 2, 0, 0, 0, IH_ERR_IMAGE_TOO_LARGE);
	expect_ihdr(png, len, 1, 0x7FFFFFFFu, 8, 2, 0, 0, 0, IH_ERR_IMAGE_TOO_LARGE);
	expect_ihdr(png, len, 16385, 1, 8, 2, 0, 0, 0, IH_ERR_IMAGE_TOO_LARGE);
	expect_ihdr(png, len, 16384, 16384, 8, 2, 0, 0, 0, IH_ERR_IMAGE_TOO_LARGE); /* 268 Mpx */
	/* IHDR of the wrong length */
	bad = splice(png, len, 8, 25, (const unsigned char *)
		     "\0\0\0\x0eIHDR\0\0\0\4\0\0\0\4\x08\x02\0\0\0\0????", 26, &blen);
	fix_crc(bad, 8);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_HEADER);
	free(bad);
	free(png);
}

static void test_png_dimension_limits(void **state)
{
	struct image_info info;
	struct image_limits lim = { 0 };
	unsigned char *png;
	size_t len;

	(void)state;
	/* width over the default limit (a real 20000 x 1 image) */
	png = make_png_ex(20000, 1, PNG_COLOR_TYPE_GRAY, 1, 0, NULL, 0, &len);
	assert_int_equal(check_lim(png, len, NULL, &info), IH_ERR_IMAGE_TOO_LARGE);
	assert_int_equal(info.width, 20000);
	/* a raised limit accepts it, and libpng agrees */
	lim.max_width = 20000;
	assert_int_equal(check_lim(png, len, &lim, NULL), IH_OK);
	free(png);
	/* height over the default limit */
	png = make_png_ex(1, 16385, PNG_COLOR_TYPE_GRAY, 1, 0, NULL, 0, &len);
	assert_int_equal(check_lim(png, len, NULL, NULL), IH_ERR_IMAGE_TOO_LARGE);
	free(png);
	/* pixels over the limit while width and height are fine */
	png = make_png(12, 12, &len);
	lim.max_width = 0;
	lim.max_pixels = 143;
	assert_int_equal(check_lim(png, len, &lim, NULL), IH_ERR_IMAGE_TOO_LARGE);
	lim.max_pixels = 144;
	assert_int_equal(check_lim(png, len, &lim, NULL), IH_OK);
	free(png);
}

static void test_png_huge_chunk_length(void **state)
{
	static const uint32_t lens[] = { 0xFFFFFFFFu, 0xFFFFFFF0u, 0x80000000u, 0x7FFFFFFFu,
					 (32u << 20) + 1 };
	struct image_limits lim = { 0 };
	unsigned char *png, *bad;
	size_t len, blen, off, i;
	uint32_t clen;

	(void)state;
	png = make_png(4, 4, &len);
	off = find_chunk(png, len, "IDAT", 0);
	clen = get_be32(png + off);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		bad = dup_bytes(png, len);
		set_be32(bad + off, lens[i]);
		assert_int_equal(check(bad, len), IH_ERR_PNG_CHUNK);
		/* IHDR with a forged length */
		set_be32(bad + off, clen);
		set_be32(bad + 8, lens[i]);
		assert_int_equal(check(bad, len), IH_ERR_PNG_CHUNK);
		free(bad);
	}
	/* a length under the limit that points past the end */
	bad = dup_bytes(png, len);
	set_be32(bad + off, clen + 1000);
	assert_int_equal(check(bad, len), IH_ERR_PNG_TRUNCATED);
	free(bad);

	/* max_chunk applies to every chunk, exactly */
	lim.max_chunk = clen;
	assert_int_equal(check_lim(png, len, &lim, NULL), IH_OK);
	lim.max_chunk = clen - 1;
	assert_int_equal(check_lim(png, len, &lim, NULL), IH_ERR_PNG_CHUNK);
	/* an ancillary chunk over max_chunk */
	{
		unsigned char big[200] = { 0 };

		lim.max_chunk = 199;
		bad = add_chunk(png, len, "zzZz", big, sizeof(big), &blen);
		assert_int_equal(check_lim(bad, blen, &lim, NULL), IH_ERR_PNG_CHUNK);
		lim.max_chunk = 200;
		assert_int_equal(check_lim(bad, blen, &lim, NULL), IH_OK);
		free(bad);
	}
	free(png);
}

static void test_png_text_keywords(void **state)
{
	png_text t[4] = {
		{ .compression = PNG_TEXT_COMPRESSION_NONE, .key = "Software", .text = "test" },
		{ .compression = PNG_TEXT_COMPRESSION_zTXt, .key = "prompt", .text = "{\"3\": {\"inputs\": {}}}" },
		{ .compression = PNG_ITXT_COMPRESSION_NONE, .key = "workflow", .text = "\xe7\x8c\xab" },
		{ .compression = PNG_ITXT_COMPRESSION_zTXt, .key = "parameters", .text = "a cat, Steps: 20" },
	};
	struct image_info info;
	unsigned char *png;
	size_t len;

	(void)state;
	png = make_png_ex(3, 3, PNG_COLOR_TYPE_RGB, 8, 0, t, 4, &len);
	assert_int_equal(check_lim(png, len, NULL, &info), IH_OK);
	assert_int_equal(info.n_keywords, 4);
	assert_string_equal(info.keywords[0], "Software");
	assert_string_equal(info.keywords[1], "prompt");
	assert_string_equal(info.keywords[2], "workflow");
	assert_string_equal(info.keywords[3], "parameters");
	assert_int_equal(info.has_parameters, 1);
	free(png);

	/* near misses do not count as "parameters" */
	t[3].key = "Parameters";
	png = make_png_ex(3, 3, PNG_COLOR_TYPE_RGB, 8, 0, t, 4, &len);
	assert_int_equal(check_lim(png, len, NULL, &info), IH_OK);
	assert_int_equal(info.has_parameters, 0);
	free(png);
	t[3].key = "parameterS";
	png = make_png_ex(3, 3, PNG_COLOR_TYPE_RGB, 8, 0, t, 4, &len);
	assert_int_equal(check_lim(png, len, NULL, &info), IH_OK);
	assert_int_equal(info.has_parameters, 0);
	free(png);
	t[3].key = "parameters2";
	png = make_png_ex(3, 3, PNG_COLOR_TYPE_RGB, 8, 0, t, 4, &len);
	assert_int_equal(check_lim(png, len, NULL, &info), IH_OK);
	assert_int_equal(info.has_parameters, 0);
	free(png);
}

static void test_png_many_keywords(void **state)
{
	struct image_info info;
	unsigned char *png;
	size_t len;
	char kw[8];
	int i;

	(void)state;
	png = make_png(3, 3, &len);
	/* add_chunk inserts after IHDR, so add in reverse to get k00..k19 in stream order */
	add_chunk_inplace(&png, &len, "tEXt", "parameters\0x", 12);
	for (i = 19; i >= 0; i--) {
		unsigned char body[8];

		kw[0] = 'k';
		kw[1] = (char)('0' + i / 10);
		kw[2] = (char)('0' + i % 10);
		kw[3] = '\0';
		memcpy(body, kw, 4);
		body[4] = 'v';
		add_chunk_inplace(&png, &len, "tEXt", body, 5);
	}
	assert_int_equal(check_lim(png, len, NULL, &info), IH_OK);
	assert_int_equal(info.n_keywords, IMAGE_MAX_KEYWORDS);
	assert_string_equal(info.keywords[0], "k00");
	assert_string_equal(info.keywords[IMAGE_MAX_KEYWORDS - 1], "k15");
	/* the 21st chunk is past the list but still found */
	assert_int_equal(info.has_parameters, 1);
	free(png);
}

static void test_png_bad_text_chunks(void **state)
{
	static const struct {
		const char *type;
		const char *body;
		size_t len;
		int want;
	} c[] = {
		{ "tEXt", "key\0value", 9, IH_OK },
		{ "tEXt", "key\0", 4, IH_OK },
		{ "tEXt", "", 0, IH_ERR_PNG_CHUNK },              /* nothing */
		{ "tEXt", "\0value", 6, IH_ERR_PNG_CHUNK },       /* empty keyword */
		{ "tEXt", "key without end", 15, IH_ERR_PNG_CHUNK }, /* no NUL */
		{ "tEXt", "k\x01y\0v", 5, IH_ERR_PNG_CHUNK },     /* control char */
		{ "tEXt", "k\x7fy\0v", 5, IH_ERR_PNG_CHUNK },     /* DEL */
		{ "tEXt", "k\x9fy\0v", 5, IH_ERR_PNG_CHUNK },     /* C1 control */
		{ "tEXt", "Schl\xfcssel\0v", 11, IH_OK },         /* Latin-1 keyword */
		{ "zTXt", "key\0", 4, IH_ERR_PNG_CHUNK },         /* no method byte */
		{ "zTXt", "key\0\0", 5, IH_ERR_PNG_CHUNK },       /* no data */
		{ "zTXt", "key\0\0garbage", 12, IH_ERR_PNG_CHUNK },
		{ "iTXt", "key\0", 4, IH_ERR_PNG_CHUNK },
		{ "iTXt", "key\0\0\0", 6, IH_ERR_PNG_CHUNK },     /* no language tag end */
		{ "iTXt", "key\0\0\0\0", 7, IH_ERR_PNG_CHUNK },   /* no translated keyword end */
		{ "iTXt", "key\0\0\0\0\0", 8, IH_OK },            /* empty text */
		{ "iTXt", "key\0\0\0en\0Schl\xc3\xbc\0text", 20, IH_OK },
		{ "iTXt", "key\0\2\0\0\0", 8, IH_ERR_PNG_CHUNK }, /* compression flag 2 */
		{ "iTXt", "key\0\1\0\0\0", 8, IH_ERR_PNG_CHUNK }, /* compressed, no data */
		{ "iTXt", "key\0\1\1\0\0x", 9, IH_ERR_PNG_CHUNK }, /* method 1 */
		{ "iCCP", "icc\0", 4, IH_ERR_PNG_CHUNK },
		{ "iCCP", "icc\0\0", 5, IH_ERR_PNG_CHUNK },
	};
	char kw80[100];
	unsigned char *png, *bad;
	size_t len, blen, i;

	(void)state;
	png = make_png(3, 3, &len);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		bad = add_chunk(png, len, c[i].type, c[i].body, c[i].len, &blen);
		if (check(bad, blen) != c[i].want)
			fail_msg("case %zu (%s): got %d, want %d", i, c[i].type, check(bad, blen), c[i].want);
		free(bad);
	}
	/* 79-character keyword is the longest allowed */
	memset(kw80, 'k', sizeof(kw80));
	kw80[79] = '\0';
	bad = add_chunk(png, len, "tEXt", kw80, 81, &blen);
	assert_int_equal(check(bad, blen), IH_OK);
	free(bad);
	kw80[79] = 'k';
	kw80[80] = '\0';
	bad = add_chunk(png, len, "tEXt", kw80, 82, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	free(png);
}

static void test_png_compressed_text_streams(void **state)
{
	static const char msg[] = "a photo of a cat";
	unsigned char *png, *bad, *z, *body;
	size_t len, blen, zlen, bodylen;

	(void)state;
	png = make_png(3, 3, &len);
	z = zlib_of(msg, sizeof(msg) - 1, &zlen);

	body = with_prefix("prompt\0\0", 8, z, zlen, &bodylen);
	bad = add_chunk(png, len, "zTXt", body, bodylen, &blen);
	assert_int_equal(check(bad, blen), IH_OK);
	free(bad);
	/* the zlib stream cut short */
	bad = add_chunk(png, len, "zTXt", body, bodylen - 3, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	free(body);

	/* bytes after the end of the zlib stream */
	body = with_prefix("prompt\0\0", 8, z, zlen, &bodylen);
	body = realloc(body, bodylen + 2);
	assert_non_null(body);
	memcpy(body + bodylen, "xx", 2);
	bad = add_chunk(png, len, "zTXt", body, bodylen + 2, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	free(body);

	/* compression method other than 0 */
	body = with_prefix("prompt\0\1", 8, z, zlen, &bodylen);
	bad = add_chunk(png, len, "zTXt", body, bodylen, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	free(body);

	/* a corrupted deflate stream (zlib header check fails) */
	body = with_prefix("prompt\0\0", 8, z, zlen, &bodylen);
	body[8] ^= 0xFF;
	bad = add_chunk(png, len, "zTXt", body, bodylen, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	free(body);

	/* compressed iTXt and iCCP, well-formed */
	body = with_prefix("prompt\0\1\0en\0\0", 13, z, zlen, &bodylen);
	bad = add_chunk(png, len, "iTXt", body, bodylen, &blen);
	assert_int_equal(check(bad, blen), IH_OK);
	free(bad);
	free(body);
	body = with_prefix("ICC profile\0\0", 13, z, zlen, &bodylen);
	bad = add_chunk(png, len, "iCCP", body, bodylen, &blen);
	{
		struct image_info info;

		assert_int_equal(check_lim(bad, blen, NULL, &info), IH_OK);
		/* iCCP's name is not a text keyword */
		assert_int_equal(info.n_keywords, 0);
	}
	free(bad);
	free(body);

	free(z);
	free(png);
}

/*
 * Uncompressed text costs no inflation: its size alone never refuses the
 * image (item 3 of issue 11). Compressed text keeps max_text_chunk.
 */
static void test_png_text_chunk_limit(void **state)
{
	struct image_limits lim = { 0 };
	unsigned char *png, *bad, *body, *z;
	size_t len, blen, n = (1u << 20) + 1;
	uLongf zlen;

	(void)state;
	png = make_png(3, 3, &len);
	/* room for the stored (uncompressed) zlib form of n bytes too */
	body = malloc(compressBound(n) + 64);
	assert_non_null(body);
	memset(body, 'x', compressBound(n) + 64);
	memcpy(body, "big\0", 4);
	/* tEXt one byte over the 1 MiB compressed-text limit: fine */
	bad = add_chunk(png, len, "tEXt", body, n, &blen);
	assert_int_equal(check(bad, blen), IH_OK);
	/* and a configured compressed-text limit does not apply to it */
	lim.max_text_chunk = 1024;
	assert_int_equal(check_lim(bad, blen, &lim, NULL), IH_OK);
	free(bad);
	/* an uncompressed iTXt neither: keyword NUL flag 0 method 0 "" NUL "" NUL text */
	memcpy(body, "big\0\0\0\0\0", 8);
	bad = add_chunk(png, len, "iTXt", body, n, &blen);
	assert_int_equal(check_lim(bad, blen, &lim, NULL), IH_OK);
	free(bad);
	/* a compressed iTXt is held to it */
	z = malloc(compressBound(n));
	assert_non_null(z);
	zlen = compressBound(n);
	assert_int_equal(compress2(z, &zlen, body + 8, n - 8, 0), Z_OK);   /* stored: n bytes or more */
	memcpy(body, "big\0\1\0\0\0", 8);
	memcpy(body + 8, z, zlen);
	bad = add_chunk(png, len, "iTXt", body, 8 + zlen, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	lim.max_text_chunk = (uint32_t)(8 + zlen);
	assert_int_equal(check_lim(bad, blen, &lim, NULL), IH_OK);
	lim.max_text_chunk = (uint32_t)(7 + zlen);
	assert_int_equal(check_lim(bad, blen, &lim, NULL), IH_ERR_PNG_CHUNK);
	free(bad);
	/* so is a zTXt: keyword NUL method 0 zlib */
	memcpy(body, "big\0\0", 5);
	memcpy(body + 5, z, zlen);
	bad = add_chunk(png, len, "zTXt", body, 5 + zlen, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	lim.max_text_chunk = (uint32_t)(5 + zlen);
	assert_int_equal(check_lim(bad, blen, &lim, NULL), IH_OK);
	free(bad);
	/* max_chunk still bounds compressed text */
	lim.max_text_chunk = 0;
	lim.max_chunk = 1024;
	bad = add_chunk(png, len, "zTXt", body, 5 + zlen, &blen);
	assert_int_equal(check_lim(bad, blen, &lim, NULL), IH_ERR_PNG_CHUNK);
	free(bad);
	/* the same size in an unknown ancillary chunk is not text: max_chunk only */
	bad = add_chunk(png, len, "teXt", body, n, &blen);
	assert_int_equal(check(bad, blen), IH_OK);
	assert_int_equal(check_lim(bad, blen, &lim, NULL), IH_ERR_PNG_CHUNK);
	free(bad);
	free(z);
	free(body);
	free(png);
}

/* 50 MB of zeros in a ~50 KB zTXt: a decompression bomb. */
static void test_png_ztxt_bomb(void **state)
{
	struct image_limits lim = { 0 };
	unsigned char *png, *bad, *z, *body;
	size_t len, blen, zlen, bodylen;

	(void)state;
	png = make_png(3, 3, &len);
	z = deflate_zeros((size_t)50 << 20, &zlen);
	assert_true(zlen < (1u << 20));  /* small enough to pass the chunk size limit */
	body = with_prefix("Comment\0\0", 9, z, zlen, &bodylen);
	bad = add_chunk(png, len, "zTXt", body, bodylen, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	/* a tighter limit rejects it too */
	lim.max_inflated_text = 4096;
	assert_int_equal(check_lim(bad, blen, &lim, NULL), IH_ERR_PNG_CHUNK);
	free(bad);
	free(body);
	/* and as compressed iTXt */
	body = with_prefix("parameters\0\1\0\0\0", 15, z, zlen, &bodylen);
	bad = add_chunk(png, len, "iTXt", body, bodylen, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	free(body);
	free(z);
	free(png);
}

static void test_png_iccp_bomb(void **state)
{
	unsigned char *png, *bad, *z, *body;
	size_t len, blen, zlen, bodylen;

	(void)state;
	png = make_png(3, 3, &len);
	z = deflate_zeros((size_t)50 << 20, &zlen);
	body = with_prefix("ICC profile\0\0", 13, z, zlen, &bodylen);
	bad = add_chunk(png, len, "iCCP", body, bodylen, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_PNG_CHUNK);
	free(bad);
	free(body);
	free(z);
	free(png);
}

/* The inflate budget is exact, and it is shared by all chunks of one image. */
static void test_png_inflate_budget(void **state)
{
	struct image_limits lim = { 0 };
	unsigned char *png, *z, *body;
	size_t len, zlen, bodylen;

	(void)state;
	png = make_png(3, 3, &len);
	z = deflate_zeros(100000, &zlen);
	body = with_prefix("Comment\0\0", 9, z, zlen, &bodylen);
	add_chunk_inplace(&png, &len, "zTXt", body, bodylen);
	lim.max_inflated_text = 100000;
	assert_int_equal(check_lim(png, len, &lim, NULL), IH_OK);
	lim.max_inflated_text = 99999;
	assert_int_equal(check_lim(png, len, &lim, NULL), IH_ERR_PNG_CHUNK);

	/* two such chunks need twice the budget */
	add_chunk_inplace(&png, &len, "zTXt", body, bodylen);
	lim.max_inflated_text = 199999;
	assert_int_equal(check_lim(png, len, &lim, NULL), IH_ERR_PNG_CHUNK);
	lim.max_inflated_text = 200000;
	assert_int_equal(check_lim(png, len, &lim, NULL), IH_OK);
	free(body);
	free(z);

	/* many small bombs: each under the 8 MiB default, together over it */
	z = deflate_zeros(3u << 20, &zlen);
	body = with_prefix("Comment\0\0", 9, z, zlen, &bodylen);
	add_chunk_inplace(&png, &len, "zTXt", body, bodylen);
	add_chunk_inplace(&png, &len, "zTXt", body, bodylen);
	assert_int_equal(check(png, len), IH_OK);  /* 6 MiB + 200000 */
	add_chunk_inplace(&png, &len, "zTXt", body, bodylen);
	assert_int_equal(check(png, len), IH_ERR_PNG_CHUNK);
	free(body);
	free(z);
	free(png);
}

/* ---- JPEG ------------------------------------------------------------------ */

/* Offset of the first marker FF m at or after from, or 0. */
static size_t find_marker(const unsigned char *d, size_t len, unsigned m, size_t from)
{
	size_t i;

	for (i = from; i + 1 < len; i++)
		if (d[i] == 0xFF && d[i + 1] == m)
			return i;
	return 0;
}

static void test_jpeg_valid(void **state)
{
	struct image_info info;

	(void)state;
	assert_int_equal(check_lim(jpeg_rst, sizeof(jpeg_rst), NULL, &info), IH_OK);
	assert_int_equal(info.format, IMAGE_JPEG);
	assert_int_equal(info.width, 24);
	assert_int_equal(info.height, 9);
	assert_int_equal(info.bit_depth, 0);
	assert_int_equal(info.color_type, -1);
	assert_int_equal(info.n_keywords, 0);
	/* the fixture really has restart markers and stuffed bytes inside its scan */
	assert_true(find_marker(jpeg_rst, sizeof(jpeg_rst), 0xD0, 0) > 0);
	assert_true(find_marker(jpeg_rst, sizeof(jpeg_rst), 0x00, find_marker(jpeg_rst, sizeof(jpeg_rst), 0xDA, 0)) > 0);

	assert_int_equal(check_lim(jpeg_prog, sizeof(jpeg_prog), NULL, &info), IH_OK);
	assert_int_equal(info.width, 11);
	assert_int_equal(info.height, 6);
	/* progressive: several scans */
	assert_true(find_marker(jpeg_prog, sizeof(jpeg_prog), 0xDA,
				find_marker(jpeg_prog, sizeof(jpeg_prog), 0xDA, 0) + 2) > 0);
}

static void test_jpeg_truncated_everywhere(void **state)
{
	size_t n;

	(void)state;
	for (n = 1; n < sizeof(jpeg_rst); n++)
		assert_int_equal(check(jpeg_rst, n), IH_ERR_JPEG);
	for (n = 1; n < sizeof(jpeg_prog); n++)
		assert_int_equal(check(jpeg_prog, n), IH_ERR_JPEG);
}

static void test_jpeg_structure(void **state)
{
	const size_t len = sizeof(jpeg_rst);
	unsigned char *bad;
	size_t blen, off, sos;

	(void)state;
	/* missing EOI */
	assert_int_equal(check(jpeg_rst, len - 2), IH_ERR_JPEG);
	/* EOI replaced by another marker */
	bad = dup_bytes(jpeg_rst, len);
	bad[len - 1] = 0xD8;
	assert_int_equal(check(bad, len), IH_ERR_JPEG);
	free(bad);
	/* trailing garbage after EOI */
	bad = splice(jpeg_rst, len, len, 0, (const unsigned char *)"junk", 4, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_JPEG);
	free(bad);
	/* fill bytes before a marker are legal */
	off = find_marker(jpeg_rst, len, 0xDB, 0);
	assert_true(off > 0);
	bad = splice(jpeg_rst, len, off, 0, (const unsigned char *)"\xFF\xFF\xFF", 3, &blen);
	assert_int_equal(check(bad, blen), IH_OK);
	free(bad);

	/* bad segment lengths: 0, 1, one too long, past the end */
	{
		static const uint32_t seglens[] = { 0, 1, 0xFFFF };
		size_t i;

		for (i = 0; i < 3; i++) {
			bad = dup_bytes(jpeg_rst, len);
			bad[off + 2] = (unsigned char)(seglens[i] >> 8);
			bad[off + 3] = (unsigned char)seglens[i];
			assert_int_equal(check(bad, len), IH_ERR_JPEG);
			free(bad);
		}
		bad = dup_bytes(jpeg_rst, len);
		bad[off + 3]++;   /* DQT one byte longer: the next "marker" is not FF */
		assert_int_equal(check(bad, len), IH_ERR_JPEG);
		free(bad);
	}

	/* missing SOF */
	off = find_marker(jpeg_rst, len, 0xC0, 0);
	assert_true(off > 0);
	bad = splice(jpeg_rst, len, off, 2 + ((size_t)jpeg_rst[off + 2] << 8 | jpeg_rst[off + 3]),
		     NULL, 0, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_JPEG);
	free(bad);
	/* two SOFs */
	bad = splice(jpeg_rst, len, off, 0, jpeg_rst + off,
		     2 + ((size_t)jpeg_rst[off + 2] << 8 | jpeg_rst[off + 3]), &blen);
	assert_int_equal(check(bad, blen), IH_ERR_JPEG);
	free(bad);
	/* zero width, zero height, component count not matching the length */
	bad = dup_bytes(jpeg_rst, len);
	bad[off + 7] = bad[off + 8] = 0;
	assert_int_equal(check(bad, len), IH_ERR_JPEG);
	free(bad);
	bad = dup_bytes(jpeg_rst, len);
	bad[off + 5] = bad[off + 6] = 0;
	assert_int_equal(check(bad, len), IH_ERR_JPEG);
	free(bad);
	bad = dup_bytes(jpeg_rst, len);
	bad[off + 9] = 2;
	assert_int_equal(check(bad, len), IH_ERR_JPEG);
	free(bad);

	/* a marker that cannot appear in the scan: SOI inside entropy data */
	sos = find_marker(jpeg_rst, len, 0xDA, 0);
	bad = splice(jpeg_rst, len, sos + 20, 0, (const unsigned char *)"\xFF\xD8", 2, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_JPEG);
	free(bad);
	/* stuffed bytes and restart markers are part of the data */
	bad = splice(jpeg_rst, len, sos + 20, 0, (const unsigned char *)"\xFF\x00\xFF\xD7\xFF\xFF\x00", 7, &blen);
	assert_int_equal(check(bad, blen), IH_OK);
	free(bad);
	/* SOS before SOF (the real SOF follows later) */
	bad = splice(jpeg_rst, len, 2, 0, (const unsigned char *)"\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00" "data", 14, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_JPEG);
	free(bad);
	/* only SOI and EOI */
	assert_int_equal(check((const unsigned char *)"\xFF\xD8\xFF\xD9", 4), IH_ERR_JPEG);
	/* a stray 0x00 marker between segments */
	bad = splice(jpeg_rst, len, find_marker(jpeg_rst, len, 0xDB, 0), 0,
		     (const unsigned char *)"\xFF\x00", 2, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_JPEG);
	free(bad);
}

static void test_jpeg_limits(void **state)
{
	struct image_limits lim = { 0 };
	struct image_info info;
	unsigned char *bad;
	size_t off;

	(void)state;
	lim.max_width = 23;
	assert_int_equal(check_lim(jpeg_rst, sizeof(jpeg_rst), &lim, &info), IH_ERR_IMAGE_TOO_LARGE);
	assert_int_equal(info.width, 24);
	lim.max_width = 24;
	lim.max_height = 8;
	assert_int_equal(check_lim(jpeg_rst, sizeof(jpeg_rst), &lim, NULL), IH_ERR_IMAGE_TOO_LARGE);
	lim.max_height = 9;
	lim.max_pixels = 24 * 9 - 1;
	assert_int_equal(check_lim(jpeg_rst, sizeof(jpeg_rst), &lim, NULL), IH_ERR_IMAGE_TOO_LARGE);
	lim.max_pixels = 24 * 9;
	assert_int_equal(check_lim(jpeg_rst, sizeof(jpeg_rst), &lim, NULL), IH_OK);
	/* 65535 x 65535 in the header, with default limits */
	off = find_marker(jpeg_rst, sizeof(jpeg_rst), 0xC0, 0);
	bad = dup_bytes(jpeg_rst, sizeof(jpeg_rst));
	memset(bad + off + 5, 0xFF, 4);
	assert_int_equal(check(bad, sizeof(jpeg_rst)), IH_ERR_IMAGE_TOO_LARGE);
	free(bad);
}

/* ---- WebP ------------------------------------------------------------------ */

static void test_webp_valid(void **state)
{
	struct image_info info;

	(void)state;
	assert_int_equal(check_lim(webp_vp8l, sizeof(webp_vp8l), NULL, &info), IH_OK);
	assert_int_equal(info.format, IMAGE_WEBP);
	assert_int_equal(info.width, 7);
	assert_int_equal(info.height, 5);
	assert_int_equal(info.color_type, -1);
	assert_int_equal(check_lim(webp_vp8, sizeof(webp_vp8), NULL, &info), IH_OK);
	assert_int_equal(info.width, 9);
	assert_int_equal(info.height, 6);
	assert_int_equal(check_lim(webp_vp8x, sizeof(webp_vp8x), NULL, &info), IH_OK);
	assert_int_equal(info.width, 7);
	assert_int_equal(info.height, 5);
}

static void test_webp_truncated_everywhere(void **state)
{
	static const struct {
		const unsigned char *d;
		size_t len;
	} f[] = {
		{ webp_vp8l, sizeof(webp_vp8l) },
		{ webp_vp8, sizeof(webp_vp8) },
		{ webp_vp8x, sizeof(webp_vp8x) },
	};
	size_t i, n;

	(void)state;
	for (i = 0; i < 3; i++)
		for (n = 1; n < f[i].len; n++)
			assert_int_equal(check(f[i].d, n), IH_ERR_WEBP);
}

static void test_webp_riff_size(void **state)
{
	static const int32_t delta[] = { -1, 1, -2, 2, -100 };
	unsigned char *bad;
	size_t len = sizeof(webp_vp8l), i, blen;

	(void)state;
	for (i = 0; i < sizeof(delta) / sizeof(delta[0]); i++) {
		bad = dup_bytes(webp_vp8l, len);
		set_le32(bad + 4, (uint32_t)((int32_t)len - 8 + delta[i]));
		assert_int_equal(check(bad, len), IH_ERR_WEBP);
		free(bad);
	}
	bad = dup_bytes(webp_vp8l, len);
	set_le32(bad + 4, 0xFFFFFFFFu);
	assert_int_equal(check(bad, len), IH_ERR_WEBP);
	set_le32(bad + 4, 0);
	assert_int_equal(check(bad, len), IH_ERR_WEBP);
	free(bad);
	/* trailing bytes beyond the RIFF size */
	bad = splice(webp_vp8l, len, len, 0, (const unsigned char *)"\0\0", 2, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_WEBP);
	free(bad);
}

/* A hand-made simple-format file with an odd-sized VP8L chunk (header only). */
static void test_webp_odd_chunk_padding(void **state)
{
	unsigned char f[26] = {
		'R', 'I', 'F', 'F', 18, 0, 0, 0, 'W', 'E', 'B', 'P',
		'V', 'P', '8', 'L', 5, 0, 0, 0,
		0x2F, 0x02, 0x40, 0x00, 0x00,  /* 3 x 2: w-1 = 2, h-1 = 1 */
		0x00                            /* pad byte */
	};
	struct image_info info;

	(void)state;
	assert_int_equal(check_lim(f, sizeof(f), NULL, &info), IH_OK);
	assert_int_equal(info.width, 3);
	assert_int_equal(info.height, 2);
	/* a RIFF size that leaves the final pad byte out is tolerated (the spec's odd size) */
	f[4] = 17;
	assert_int_equal(check(f, sizeof(f)), IH_OK);
	/* but the pad byte itself must be there */
	assert_int_equal(check(f, sizeof(f) - 1), IH_ERR_WEBP);
	f[4] = 18;
	/* chunk size past the end */
	f[16] = 7;
	assert_int_equal(check(f, sizeof(f)), IH_ERR_WEBP);
	f[16] = 0xFF;
	f[19] = 0xFF;
	assert_int_equal(check(f, sizeof(f)), IH_ERR_WEBP);
	f[16] = 5;
	f[19] = 0;
	/* VP8L signature and version */
	f[20] = 0x2E;
	assert_int_equal(check(f, sizeof(f)), IH_ERR_WEBP);
	f[20] = 0x2F;
	f[24] = 0x20;   /* version 1 */
	assert_int_equal(check(f, sizeof(f)), IH_ERR_WEBP);
	f[24] = 0x00;
	assert_int_equal(check(f, sizeof(f)), IH_OK);
}

static void test_webp_structure(void **state)
{
	unsigned char *bad, *tmp;
	size_t blen, tlen, off;

	(void)state;
	/* VP8 frame signature */
	bad = dup_bytes(webp_vp8, sizeof(webp_vp8));
	bad[20 + 3] = 0x9C;
	assert_int_equal(check(bad, sizeof(webp_vp8)), IH_ERR_WEBP);
	free(bad);
	/* VP8 inter frame (not a key frame) */
	bad = dup_bytes(webp_vp8, sizeof(webp_vp8));
	bad[20] |= 1;
	assert_int_equal(check(bad, sizeof(webp_vp8)), IH_ERR_WEBP);
	free(bad);
	/* VP8 zero width */
	bad = dup_bytes(webp_vp8, sizeof(webp_vp8));
	bad[26] = 0;
	bad[27] &= 0xC0;
	assert_int_equal(check(bad, sizeof(webp_vp8)), IH_ERR_WEBP);
	free(bad);
	/* unknown first chunk */
	bad = dup_bytes(webp_vp8l, sizeof(webp_vp8l));
	memcpy(bad + 12, "VP8Q", 4);
	assert_int_equal(check(bad, sizeof(webp_vp8l)), IH_ERR_WEBP);
	free(bad);
	/* simple format followed by another chunk */
	bad = splice(webp_vp8l, sizeof(webp_vp8l), sizeof(webp_vp8l), 0,
		     (const unsigned char *)"EXIF\2\0\0\0ab", 10, &blen);
	set_le32(bad + 4, (uint32_t)blen - 8);
	assert_int_equal(check(bad, blen), IH_ERR_WEBP);
	free(bad);
	/* extended format may carry more chunks */
	bad = splice(webp_vp8x, sizeof(webp_vp8x), sizeof(webp_vp8x), 0,
		     (const unsigned char *)"EXIF\3\0\0\0abc\0", 12, &blen);
	set_le32(bad + 4, (uint32_t)blen - 8);
	assert_int_equal(check(bad, blen), IH_OK);
	free(bad);
	/* VP8X canvas not matching the image */
	bad = dup_bytes(webp_vp8x, sizeof(webp_vp8x));
	bad[20 + 4]++;
	assert_int_equal(check(bad, sizeof(webp_vp8x)), IH_ERR_WEBP);
	free(bad);
	/* VP8X not first */
	off = 12 + 8 + 10;  /* after VP8X */
	tmp = splice(webp_vp8x, sizeof(webp_vp8x), 12, 18, NULL, 0, &tlen);
	bad = splice(tmp, tlen, tlen, 0, webp_vp8x + 12, 18, &blen);
	assert_int_equal(check(bad, blen), IH_ERR_WEBP);
	free(bad);
	free(tmp);
	/* VP8X with no image at all */
	bad = splice(webp_vp8x, sizeof(webp_vp8x), off, sizeof(webp_vp8x) - off, NULL, 0, &blen);
	set_le32(bad + 4, (uint32_t)blen - 8);
	assert_int_equal(check(bad, blen), IH_ERR_WEBP);
	free(bad);
	/* VP8X of the wrong size */
	bad = dup_bytes(webp_vp8x, sizeof(webp_vp8x));
	bad[16] = 8;
	assert_int_equal(check(bad, sizeof(webp_vp8x)), IH_ERR_WEBP);
	free(bad);
}

static void test_webp_limits(void **state)
{
	struct image_limits lim = { 0 };
	struct image_info info;
	unsigned char *bad;

	(void)state;
	lim.max_width = 6;
	assert_int_equal(check_lim(webp_vp8l, sizeof(webp_vp8l), &lim, &info), IH_ERR_IMAGE_TOO_LARGE);
	assert_int_equal(info.width, 7);
	assert_int_equal(check_lim(webp_vp8x, sizeof(webp_vp8x), &lim, NULL), IH_ERR_IMAGE_TOO_LARGE);
	lim.max_width = 0;
	lim.max_height = 5;
	lim.max_pixels = 54;
	assert_int_equal(check_lim(webp_vp8, sizeof(webp_vp8), &lim, NULL), IH_ERR_IMAGE_TOO_LARGE);
	/* VP8L at its 16384 x 16384 maximum against the default pixel limit */
	bad = dup_bytes(webp_vp8l, sizeof(webp_vp8l));
	bad[21] = 0xFF;
	bad[22] = 0xFF;
	bad[23] = 0xFF;
	bad[24] = (unsigned char)((bad[24] & 0xF0) | 0x0F);
	assert_int_equal(check_lim(bad, sizeof(webp_vp8l), NULL, &info), IH_ERR_IMAGE_TOO_LARGE);
	assert_int_equal(info.width, 16384);
	assert_int_equal(info.height, 16384);
	free(bad);
	/* VP8X canvas area over 2^32 is invalid, whatever the limits */
	bad = dup_bytes(webp_vp8x, sizeof(webp_vp8x));
	memset(bad + 24, 0xFF, 6);
	assert_int_equal(check(bad, sizeof(webp_vp8x)), IH_ERR_WEBP);
	free(bad);
}

/* ---- add_text ------------------------------------------------------------- */

struct memsrc {
	const unsigned char *p;
	size_t len, pos;
};

static void ms_read(png_structp png, png_bytep out, size_t n)
{
	struct memsrc *s = png_get_io_ptr(png);

	if (n > s->len - s->pos)
		png_error(png, "short read");
	memcpy(out, s->p + s->pos, n);
	s->pos += n;
}

/*
 * Decodes the whole PNG with libpng (pixels included) and returns its text
 * chunk with this keyword: want is the exact bytes libpng must report.
 */
static void expect_libpng_text(const unsigned char *png, size_t len, const char *key,
			       const char *want, int want_comp)
{
	struct memsrc src = { png, len, 0 };
	png_structp rp;
	png_infop ri;
	png_textp text;
	unsigned char *row;
	int num, i, pass, passes;
	volatile int found = 0;  /* written after setjmp */
	png_uint_32 y;

	rp = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	assert_non_null(rp);
	ri = png_create_info_struct(rp);
	assert_non_null(ri);
	if (setjmp(png_jmpbuf(rp)))
		fail_msg("libpng could not read the image back");
	png_set_read_fn(rp, &src, ms_read);
	png_read_info(rp, ri);
	num = 0;
	png_get_text(rp, ri, &text, &num);
	for (i = 0; i < num; i++) {
		if (strcmp(text[i].key, key) != 0)
			continue;
		found++;
		assert_int_equal(text[i].compression, want_comp);
		assert_string_equal(text[i].text, want);
		if (want_comp == PNG_ITXT_COMPRESSION_NONE) {
			assert_string_equal(text[i].lang, "");
			assert_string_equal(text[i].lang_key, "");
		}
	}
	assert_int_equal(found, 1);
	/* the pixels still decode: nothing else was disturbed */
	row = malloc(png_get_rowbytes(rp, ri));
	assert_non_null(row);
	passes = png_set_interlace_handling(rp);
	for (pass = 0; pass < passes; pass++)
		for (y = 0; y < png_get_image_height(rp, ri); y++)
			png_read_row(rp, row, NULL);
	png_read_end(rp, NULL);
	free(row);
	png_destroy_read_struct(&rp, &ri, NULL);
}

/* Adds text, then checks the layout byte by byte and what image_check sees. */
static unsigned char *add_and_verify(const unsigned char *png, size_t len, const char *key,
				     const char *text, const char *want_type,
				     const unsigned char *want_data, size_t want_dlen,
				     size_t *out_len)
{
	struct image_info info;
	unsigned char *out = NULL;
	size_t olen = 0;

	assert_int_equal(image_png_add_text(png, len, key, text, &out, &olen), IH_OK);
	assert_non_null(out);
	assert_int_equal(olen, len + 12 + want_dlen);
	/* signature and IHDR untouched */
	assert_memory_equal(out, png, 33);
	/* the new chunk right after IHDR */
	assert_int_equal(get_be32(out + 33), want_dlen);
	assert_memory_equal(out + 37, want_type, 4);
	assert_memory_equal(out + 41, want_data, want_dlen);
	assert_int_equal(get_be32(out + 41 + want_dlen),
			 (uint32_t)crc32(0L, out + 37, (uInt)want_dlen + 4));
	/* everything after it identical to the original */
	assert_memory_equal(out + 33 + 12 + want_dlen, png + 33, len - 33);
	assert_int_equal(check_lim(out, olen, NULL, &info), IH_OK);
	*out_len = olen;
	return out;
}

static void test_add_text_latin1(void **state)
{
	static const char text[] = "a photo of a cat, Steps: 20, Sampler: Euler a";
	unsigned char want[200], *png, *out;
	size_t len, olen, n;
	struct image_info info;

	(void)state;
	png = make_png_ex(5, 4, PNG_COLOR_TYPE_RGB_ALPHA, 8, 1, NULL, 0, &len);
	n = 0;
	memcpy(want, "parameters", 11);
	n = 11;
	memcpy(want + n, text, sizeof(text) - 1);
	n += sizeof(text) - 1;
	out = add_and_verify(png, len, "parameters", text, "tEXt", want, n, &olen);
	assert_int_equal(check_lim(out, olen, NULL, &info), IH_OK);
	assert_int_equal(info.has_parameters, 1);
	assert_int_equal(info.n_keywords, 1);
	assert_string_equal(info.keywords[0], "parameters");
	expect_libpng_text(out, olen, "parameters", text, PNG_TEXT_COMPRESSION_NONE);
	free(out);
	free(png);
}

static void test_add_text_latin1_non_ascii(void **state)
{
	/* UTF-8 in; Latin-1 bytes in the chunk */
	static const char text[] = "caf\xc3\xa9 \xc3\xb1 \xc2\xa9 \xc3\xbf\n2nd line";
	static const char latin1[] = "caf\xe9 \xf1 \xa9 \xff\n2nd line";
	unsigned char want[100], *png, *out;
	size_t len, olen, n;

	(void)state;
	png = make_png(4, 4, &len);
	memcpy(want, "parameters", 11);
	n = 11 + sizeof(latin1) - 1;
	memcpy(want + 11, latin1, sizeof(latin1) - 1);
	out = add_and_verify(png, len, "parameters", text, "tEXt", want, n, &olen);
	/* libpng hands tEXt back as the Latin-1 bytes */
	expect_libpng_text(out, olen, "parameters", latin1, PNG_TEXT_COMPRESSION_NONE);
	free(out);
	free(png);
}

static void test_add_text_cjk_itxt(void **state)
{
	/* "a cat" in Chinese, an e-acute and an emoji: not Latin-1, so iTXt carries UTF-8 */
	static const char text[] = "\xe4\xb8\x80\xe5\x8f\xaa\xe7\x8c\xab caf\xc3\xa9 \xf0\x9f\x90\xb1";
	unsigned char want[100], *png, *out;
	size_t len, olen, n;
	struct image_info info;

	(void)state;
	png = make_png_ex(4, 4, PNG_COLOR_TYPE_PALETTE, 4, 0, NULL, 0, &len);
	memcpy(want, "parameters\0\0\0\0\0", 15);
	n = 15 + sizeof(text) - 1;
	memcpy(want + 15, text, sizeof(text) - 1);
	out = add_and_verify(png, len, "parameters", text, "iTXt", want, n, &olen);
	assert_int_equal(check_lim(out, olen, NULL, &info), IH_OK);
	assert_int_equal(info.has_parameters, 1);
	expect_libpng_text(out, olen, "parameters", text, PNG_ITXT_COMPRESSION_NONE);
	free(out);
	free(png);
}

static void test_add_text_keeps_existing_chunks(void **state)
{
	png_text t = { .compression = PNG_TEXT_COMPRESSION_zTXt, .key = "prompt", .text = "{}" };
	unsigned char *png, *out = NULL;
	size_t len, olen;
	struct image_info info;

	(void)state;
	png = make_png_ex(4, 4, PNG_COLOR_TYPE_GRAY, 16, 0, &t, 1, &len);
	assert_int_equal(image_png_add_text(png, len, "parameters", "", &out, &olen), IH_OK);
	assert_int_equal(olen, len + 12 + 11);
	assert_int_equal(check_lim(out, olen, NULL, &info), IH_OK);
	assert_int_equal(info.n_keywords, 2);
	assert_string_equal(info.keywords[0], "parameters");
	assert_string_equal(info.keywords[1], "prompt");
	expect_libpng_text(out, olen, "parameters", "", PNG_TEXT_COMPRESSION_NONE);
	expect_libpng_text(out, olen, "prompt", "{}", PNG_TEXT_COMPRESSION_zTXt);
	free(out);
	free(png);
}

static void test_add_text_keyword_rules(void **state)
{
	static const char *const bad_keys[] = {
		"", " lead", "trail ", "dou  ble", "tab\there", "new\nline", "del\x7f",
		"\xc2\x85nel",          /* U+0085, a C1 control */
		"\xc2\xa0nbsp",         /* U+00A0, not printable per the spec */
		"\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87",  /* Cyrillic: outside Latin-1 */
		"bad\xc3",              /* invalid UTF-8 */
	};
	char k80[81];
	unsigned char *png, *out = (unsigned char *)"sentinel";
	size_t len, olen = 7, i;
	struct image_info info;

	(void)state;
	png = make_png(3, 3, &len);
	for (i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
		assert_int_equal(image_png_add_text(png, len, bad_keys[i], "x", &out, &olen), IH_ERR_LIMIT);
		assert_null(out);
		assert_int_equal(olen, 0);
	}
	memset(k80, 'k', 80);
	k80[80] = '\0';
	assert_int_equal(image_png_add_text(png, len, k80, "x", &out, &olen), IH_ERR_LIMIT);
	k80[79] = '\0';
	assert_int_equal(image_png_add_text(png, len, k80, "x", &out, &olen), IH_OK);
	assert_int_equal(check_lim(out, olen, NULL, &info), IH_OK);
	assert_string_equal(info.keywords[0], k80);
	free(out);
	/* a Latin-1 keyword given as UTF-8 is written as Latin-1 */
	assert_int_equal(image_png_add_text(png, len, "Schl\xc3\xbcssel", "x", &out, &olen), IH_OK);
	assert_memory_equal(out + 41, "Schl\xfcssel\0x", 11);
	assert_int_equal(check_lim(out, olen, NULL, &info), IH_OK);
	assert_string_equal(info.keywords[0], "Schl\xfcssel");
	free(out);
	assert_int_equal(image_png_add_text(png, len, NULL, "x", &out, &olen), IH_ERR_LIMIT);
	assert_int_equal(image_png_add_text(png, len, "k", NULL, &out, &olen), IH_ERR_LIMIT);
	free(png);
}

static void test_add_text_invalid_utf8(void **state)
{
	static const char *const bad[] = {
		"\xc3",                 /* cut short */
		"ab\xc3x",              /* continuation missing */
		"\x80",                 /* lone continuation */
		"\xc0\x80",             /* overlong NUL */
		"\xc1\xbf",             /* overlong */
		"\xe0\x80\xaf",         /* overlong '/' */
		"\xf0\x80\x80\xaf",     /* overlong, 4 bytes */
		"\xed\xa0\x80",         /* surrogate U+D800 */
		"\xed\xbf\xbf",         /* surrogate U+DFFF */
		"\xf4\x90\x80\x80",     /* U+110000 */
		"\xf5\x80\x80\x80",
		"\xfe", "\xff",
		"\xe4\xb8",             /* CJK cut short */
	};
	unsigned char *png, *out;
	size_t len, olen, i;

	(void)state;
	png = make_png(3, 3, &len);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = (unsigned char *)"sentinel";
		if (image_png_add_text(png, len, "parameters", bad[i], &out, &olen) != IH_ERR_LIMIT)
			fail_msg("invalid UTF-8 case %zu accepted", i);
		assert_null(out);
	}
	/* the edges that are valid */
	assert_int_equal(image_png_add_text(png, len, "k", "\xf4\x8f\xbf\xbf \xee\x80\x80 \xdf\xbf", &out, &olen), IH_OK);
	assert_memory_equal(out + 37, "iTXt", 4);
	free(out);
	assert_int_equal(image_png_add_text(png, len, "k", "\xc2\x80", &out, &olen), IH_OK);
	assert_memory_equal(out + 37, "tEXt", 4);
	free(out);
	free(png);
}

static void test_add_text_bad_png_and_size(void **state)
{
	unsigned char *png, *out;
	char *big;
	size_t len, olen, n = (1u << 20);

	(void)state;
	png = make_png(3, 3, &len);
	assert_int_equal(image_png_add_text((const unsigned char *)"GIF89a", 6, "k", "v", &out, &olen),
			 IH_ERR_PNG_SIGNATURE);
	assert_int_equal(image_png_add_text(png, 32, "k", "v", &out, &olen), IH_ERR_PNG_HEADER);
	assert_null(out);
	png[12] = 'X';
	assert_int_equal(image_png_add_text(png, len, "k", "v", &out, &olen), IH_ERR_PNG_HEADER);
	png[12] = 'I';

	/* text that would make a chunk over the default 1 MiB text limit */
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\0';
	assert_int_equal(image_png_add_text(png, len, "k", big, &out, &olen), IH_ERR_LIMIT);
	big[n - 2] = '\0';   /* "k" NUL + (2^20 - 2) = exactly 1 MiB */
	assert_int_equal(image_png_add_text(png, len, "k", big, &out, &olen), IH_OK);
	assert_int_equal(check(out, olen), IH_OK);
	free(out);
	free(big);
	free(png);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sniff_ext_mime),
		cmocka_unit_test(test_empty_and_unknown),
		cmocka_unit_test(test_png_valid_variants),
		cmocka_unit_test(test_png_one_pixel_and_limits_exact),
		cmocka_unit_test(test_png_bad_signature),
		cmocka_unit_test(test_png_bad_crc),
		cmocka_unit_test(test_png_truncated_everywhere),
		cmocka_unit_test(test_png_trailing_garbage),
		cmocka_unit_test(test_png_missing_chunks),
		cmocka_unit_test(test_png_chunk_order),
		cmocka_unit_test(test_png_palette_rules),
		cmocka_unit_test(test_png_bad_ihdr),
		cmocka_unit_test(test_png_dimension_limits),
		cmocka_unit_test(test_png_huge_chunk_length),
		cmocka_unit_test(test_png_text_keywords),
		cmocka_unit_test(test_png_many_keywords),
		cmocka_unit_test(test_png_bad_text_chunks),
		cmocka_unit_test(test_png_compressed_text_streams),
		cmocka_unit_test(test_png_text_chunk_limit),
		cmocka_unit_test(test_png_ztxt_bomb),
		cmocka_unit_test(test_png_iccp_bomb),
		cmocka_unit_test(test_png_inflate_budget),
		cmocka_unit_test(test_jpeg_valid),
		cmocka_unit_test(test_jpeg_truncated_everywhere),
		cmocka_unit_test(test_jpeg_structure),
		cmocka_unit_test(test_jpeg_limits),
		cmocka_unit_test(test_webp_valid),
		cmocka_unit_test(test_webp_truncated_everywhere),
		cmocka_unit_test(test_webp_riff_size),
		cmocka_unit_test(test_webp_odd_chunk_padding),
		cmocka_unit_test(test_webp_structure),
		cmocka_unit_test(test_webp_limits),
		cmocka_unit_test(test_add_text_latin1),
		cmocka_unit_test(test_add_text_latin1_non_ascii),
		cmocka_unit_test(test_add_text_cjk_itxt),
		cmocka_unit_test(test_add_text_keeps_existing_chunks),
		cmocka_unit_test(test_add_text_keyword_rules),
		cmocka_unit_test(test_add_text_invalid_utf8),
		cmocka_unit_test(test_add_text_bad_png_and_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
