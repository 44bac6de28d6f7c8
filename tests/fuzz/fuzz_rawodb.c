/*
 * fuzz_rawodb.c - fuzz target for the raw object parsers of the git
 * object layer (src/git/tree.c, src/git/commit.c) and the commit records
 * built on them in src/repo.c: cairn_git__entry_parse() (raw tree
 * entries), cairn_git__commit_parse() and cairn_git__signature_parse()
 * (raw commit headers and author
 * lines), cairn_repo__to_utf8() and cairn_repo__commit_info_raw().
 *
 * The first byte chooses the parser; the rest is the object.  What each
 * promises is checked: tree entries lie inside the object, have a
 * non-empty name without '/' and are followed by a whole id; a parsed
 * commit's fields lie inside the object; every string a commit record
 * holds is valid UTF-8 without NULs, whatever encoding the commit
 * claims.  Never crash, leak or read out of bounds.  Build with
 * libFuzzer through `make fuzz`; built plainly, main() in fuzz_main.h
 * replays files.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "git/git.h"
#include "repo_internal.h"
#include "util/util.h"

static void inside(const void *p, size_t n, const uint8_t *data, size_t size)
{
	const uint8_t *q = p;

	if (n && (q < data || q + n > data + size))
		abort();
}

static void utf8_string(const char *s)
{
	if (!s || !cairn__utf8_valid(s, strlen(s), NULL))
		abort();
}

static void trees(const uint8_t *data, size_t size)
{
	const unsigned char *p = data, *end = data + size;

	while (p < end) {
		cairn_git_entry e;
		const unsigned char *before = p;

		if (cairn_git__entry_parse(&e, &p, end) < 0)
			break;
		if (p <= before || p > end || !e.len ||
		    memchr(e.name, '/', e.len) || e.name[e.len] != '\0')
			abort();
		inside(e.name, e.len, data, size);
		inside(e.id, GIT_OID_RAWSZ, data, size);
	}
}

static void commits(const uint8_t *data, size_t size)
{
	cairn_git_commit c;
	cairn_git_sig sig;
	cairn_commit_info info;
	git_oid id;
	size_t i;

	memset(&id, 0x5a, sizeof(id));
	if (cairn_git__commit_parse(&c, data, size) == 0) {
		inside(c.parents, c.nparents * 48, data, size);
		inside(c.author, c.author_len, data, size);
		inside(c.committer, c.committer_len, data, size);
		inside(c.encoding, c.encoding_len, data, size);
		inside(c.message, c.message_len, data, size);
		for (i = 0; i < c.nparents; i++) {
			git_oid p;

			cairn_git__commit_parent(&p, &c, i);
		}
		if (c.author) {
			cairn_git__signature_parse(&sig, c.author,
						    c.author_len);
			inside(sig.name, sig.name_len, data, size);
			inside(sig.email, sig.email_len, data, size);
		}
	}
	if (cairn_repo__commit_info_raw(&info, &id, data, size) == 0) {
		utf8_string(info.author_name);
		utf8_string(info.author_email);
		utf8_string(info.summary);
		cairn_commit_info_dispose(&info);
	}
}

static void encodings(const uint8_t *data, size_t size)
{
	/* "<encoding>\n<text>" */
	const uint8_t *nl = memchr(data, '\n', size);
	size_t elen = nl ? (size_t)(nl - data) : 0;
	const char *text = (const char *)(nl ? nl + 1 : data);
	size_t tlen = nl ? size - elen - 1 : size;
	char *s = cairn_repo__to_utf8(text, tlen, nl ? (const char *)data
						     : NULL, elen);

	utf8_string(s);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1 << 20)
		return 0;
	switch (data[0] % 3) {
	case 0:
		trees(data + 1, size - 1);
		break;
	case 1:
		commits(data + 1, size - 1);
		break;
	default:
		encodings(data + 1, size - 1);
		break;
	}
	cairn_error_clear();
	return 0;
}

#include "fuzz_main.h"
