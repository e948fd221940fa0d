/* ih_error.h - the project-wide error codes and their messages. */
#ifndef IH_ERROR_H
#define IH_ERROR_H

/* Every fallible function returns IH_OK or one of these negative codes. */
enum ih_err {
	IH_OK = 0,
	IH_ERR_NOMEM = -1,        /* allocation failed */
	IH_ERR_IO = -2,           /* storage I/O error */
	IH_ERR_NOSPACE = -3,      /* disk full or quota exceeded */
	IH_ERR_READONLY = -4,     /* output on a read-only filesystem */
	IH_ERR_PERM = -5,         /* permission denied on storage */
	IH_ERR_CLIENT_GONE = -6,  /* body shorter than CONTENT_LENGTH */
	IH_ERR_TOO_LARGE = -7,    /* body over the configured limit */
	IH_ERR_NOT_JSON = -8,     /* body is not valid JSON */
	IH_ERR_NOT_OBJECT = -9,   /* JSON is not an object */
	IH_ERR_NO_ID = -10,       /* no usable id */
	IH_ERR_TOO_DEEP = -11,    /* JSON nesting over the limit */
	IH_ERR_BASE64 = -12,      /* invalid base64 text */
	IH_ERR_EMPTY = -13,       /* empty input where data was expected */
	IH_ERR_UNKNOWN_FORMAT = -14, /* magic bytes match no supported format */
	IH_ERR_PNG_SIGNATURE = -15,
	IH_ERR_PNG_CRC = -16,     /* a chunk's CRC does not match */
	IH_ERR_PNG_TRUNCATED = -17,  /* stream ends before IEND */
	IH_ERR_PNG_HEADER = -18,  /* IHDR missing or invalid */
	IH_ERR_IMAGE_TOO_LARGE = -19, /* dimensions over the configured limits */
	IH_ERR_PNG_CHUNK = -20,   /* chunk length or order invalid */
	IH_ERR_JPEG = -21,        /* JPEG marker structure invalid */
	IH_ERR_WEBP = -22,        /* WebP RIFF container inconsistent */
	IH_ERR_TOO_MANY = -23,    /* more images than the limit */
	IH_ERR_UNAUTHORIZED = -24,/* token missing or wrong */
	IH_ERR_METHOD = -25,      /* method other than POST */
	IH_ERR_CONFIG = -26,      /* configuration is invalid */
	IH_ERR_NO_TOKEN = -27,    /* no token configured and open endpoint not allowed */
	IH_ERR_BAD_ID = -28,      /* id outside the safe alphabet or length */
	IH_ERR_LIMIT = -29,       /* some other configured limit exceeded */
	IH_ERR_LOG = -30,         /* the log line could not be written */
	IH_ERR_GIF = -31,         /* GIF block structure invalid */
	IH_ERR_ISOBMFF = -32,     /* MP4/MOV/AVIF/HEIF box structure invalid */
	IH_ERR_EBML = -33,        /* WebM/Matroska element structure invalid */
	IH_ERR__COUNT = 34
};

/* Returns a static, human-readable message for an ih_err code. */
const char *ih_strerror(int err);

/* Maps an errno value from a storage call to the matching ih_err code. */
int ih_err_from_errno(int e);

#endif
