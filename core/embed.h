/* embed.h: the Lua sources built into the binary (see mkembed.c). */
#ifndef EMBED_H
#define EMBED_H

#include <stddef.h>

struct nvq_embedded {
	const char		*name;	/* module name, e.g. "policies.shutdown" */
	const char		*path;	/* source path, for error messages */
	const unsigned char	*src;
	size_t			 len;
	const char		*text;	/* source text (policies only), or NULL */
	size_t			 textlen;
};

extern const struct nvq_embedded nvq_embedded[];

#endif
