/*
 * webhook_body.c - the document a webhook posts (see webhook.h).
 *
 * format: json posts the hook context document of
 * cairn_hook_context_to_json(), unchanged.
 *
 * format: slack posts a message Slack's incoming webhooks (and the many
 * chat tools that copy their format) accept:
 *
 *   {"text": "<one-line summary, the notification fallback>",
 *    "blocks": [
 *      {"type": "section", "text": {"type": "mrkdwn", "text": "<summary>"}},
 *      {"type": "section", "fields": [
 *         {"type": "mrkdwn", "text": "*Environment*\nproduction"},
 *         ... Migration (<version>_<name>, or "<done> of <planned>" for a
 *         run-level event), Author (the migration's introducing commit),
 *         Commit (short sha: the migration's commit, or the deployed
 *         revision), Outcome (the status), Duration, Deployed by]},
 *      {"type": "section", "text": ... "*Error*\n```message```"}  (only
 *         when the context carries an error)]}
 *
 * The summary reads "cairn: post_execute [production] 0042_users:
 * applied in 12 ms" (": <error>" appended on failure).  Values are made
 * valid UTF-8 (a bad byte becomes '?'), Slack's three mrkdwn control
 * characters are escaped (&amp; &lt; &gt;) and long values are cut at a
 * character boundary to stay inside Slack's block limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/error.h"
#include "util/util.h"
#include "webhook.h"

/* Slack: a section text holds 3000 characters, a field 2000. */
#define FIELD_MAX 1500
#define ERROR_MAX 2500

/*
 * Appends s to b as valid UTF-8, mrkdwn-escaped, newlines folded to
 * spaces when one_line, cut to about max bytes ("…" marks a cut).
 */
static int put_text(cairn_buf *b, const char *s, size_t max, bool one_line)
{
	size_t len = s ? strlen(s) : 0, start = b->size, bad;

	while (len) {
		size_t ok = len, i;

		if (!cairn__utf8_valid(s, len, &bad))
			ok = bad;
		for (i = 0; i < ok; i++) {
			const char *rep = NULL;
			char c = s[i];

			if (b->size - start >= max) {
				/* back up to the start of a character */
				while (b->size > start &&
				       ((unsigned char)b->ptr[b->size - 1] &
					0xC0) == 0x80)
					cairn_buf_truncate(b, b->size - 1);
				if (b->size > start)
					cairn_buf_truncate(b, b->size - 1);
				return cairn_buf_puts(b, "…");
			}
			if (c == '&')
				rep = "&amp;";
			else if (c == '<')
				rep = "&lt;";
			else if (c == '>')
				rep = "&gt;";
			else if (one_line && (c == '\n' || c == '\r' ||
					      c == '\t'))
				rep = " ";
			if (rep ? cairn_buf_puts(b, rep) < 0 :
				  cairn_buf_putc(b, c) < 0)
				return CAIRN_ERROR;
		}
		s += ok;
		len -= ok;
		if (len) {
			/* one bad byte */
			if (cairn_buf_putc(b, '?') < 0)
				return CAIRN_ERROR;
			s++;
			len--;
		}
	}
	return 0;
}

static int put_duration(cairn_buf *b, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		return cairn_buf_printf(b, "%lld ms", (long long)ms);
	if (ms < 60000)
		return cairn_buf_printf(b, "%lld.%lld s", (long long)ms / 1000,
					(long long)(ms % 1000) / 100);
	return cairn_buf_printf(b, "%lld min %lld s", (long long)ms / 60000,
				(long long)(ms % 60000) / 1000);
}

static int put_migration(cairn_buf *b, const cairn_hook_context *ctx)
{
	const cairn_migration *m = ctx->migration;

	if (!m)
		return cairn_buf_printf(b, "%zu of %zu done%s", ctx->done,
					ctx->planned,
					ctx->failed ? ", some failed" : "");
	if (put_text(b, m->version_text, FIELD_MAX, true) < 0 ||
	    cairn_buf_putc(b, '_') < 0)
		return CAIRN_ERROR;
	return put_text(b, m->name, FIELD_MAX, true);
}

static const cairn_commit_info *commit_of(const cairn_hook_context *ctx)
{
	const cairn_migration *m = ctx->migration;

	if (m && m->has_provenance && m->introduced.sha[0])
		return &m->introduced;
	return NULL;
}

static int summary(cairn_buf *b, const cairn_hook_context *ctx)
{
	if (cairn_buf_printf(b, "cairn: %s [",
			     cairn_event_name(ctx->event)) < 0 ||
	    put_text(b, ctx->environment ? ctx->environment : "-", 100,
		     true) < 0 ||
	    cairn_buf_puts(b, "] ") < 0)
		return CAIRN_ERROR;
	if (ctx->migration) {
		if (put_migration(b, ctx) < 0 ||
		    cairn_buf_printf(b, ": %s in ",
				     ctx->status ? ctx->status : "-") < 0)
			return CAIRN_ERROR;
	} else if (cairn_buf_printf(b, "run %s, %zu of %zu migrations in ",
				    ctx->status ? ctx->status : "-",
				    ctx->done, ctx->planned) < 0) {
		return CAIRN_ERROR;
	}
	if (put_duration(b, ctx->duration_ms) < 0)
		return CAIRN_ERROR;
	if (ctx->error && ctx->error->message &&
	    (cairn_buf_puts(b, ": ") < 0 ||
	     put_text(b, ctx->error->message, 300, true) < 0))
		return CAIRN_ERROR;
	return 0;
}

/* Appends a {"type": "mrkdwn", "text": ...} object to arr. */
static int mrkdwn(json_t *arr_or_obj, const char *key, const char *text)
{
	json_t *o = json_pack("{s:s, s:s}", "type", "mrkdwn", "text", text);

	if (!o)
		return CAIRN_ERROR;
	if (key)
		return json_object_set_new(arr_or_obj, key, o) ? -1 : 0;
	return json_array_append_new(arr_or_obj, o) ? -1 : 0;
}

/* A field "*Label*\nvalue"; value is already escaped. */
static int field(json_t *fields, const char *label, const char *value)
{
	cairn_buf b = CAIRN_BUF_INIT;
	int rc;

	rc = cairn_buf_printf(&b, "*%s*\n%s", label,
			      value && *value ? value : "-");
	if (rc == 0)
		rc = mrkdwn(fields, NULL, b.ptr);
	cairn_buf_dispose(&b);
	return rc;
}

static int fields_json(json_t *fields, const cairn_hook_context *ctx)
{
	const cairn_commit_info *c = commit_of(ctx);
	const char *sha = c ? c->sha : ctx->deploy_rev;
	cairn_buf v = CAIRN_BUF_INIT;
	int rc = CAIRN_ERROR;

#define FIELD(label, fill) do { \
		cairn_buf_clear(&v); \
		if ((fill) < 0 || field(fields, label, v.ptr) < 0) \
			goto out; \
	} while (0)

	FIELD("Environment", put_text(&v, ctx->environment, FIELD_MAX, true));
	FIELD("Migration", put_migration(&v, ctx));
	FIELD("Author", put_text(&v, c ? c->author_name : NULL, FIELD_MAX,
				 true));
	FIELD("Commit", sha && *sha ?
	      cairn_buf_printf(&v, "`%.7s`", sha) : 0);
	FIELD("Outcome", put_text(&v, ctx->status, FIELD_MAX, true));
	FIELD("Duration", put_duration(&v, ctx->duration_ms));
	FIELD("Deployed by", put_text(&v, ctx->actor, FIELD_MAX, true));
#undef FIELD
	rc = 0;
out:
	cairn_buf_dispose(&v);
	return rc;
}

static int slack_json(char **out, const cairn_hook_context *ctx)
{
	json_t *root = NULL, *blocks, *head, *sec, *fields;
	cairn_buf sum = CAIRN_BUF_INIT, err = CAIRN_BUF_INIT;
	int rc = CAIRN_ERROR;

	if (summary(&sum, ctx) < 0)
		goto out;
	root = json_object();
	blocks = json_array();
	head = json_pack("{s:s}", "type", "section");
	sec = json_pack("{s:s}", "type", "section");
	fields = json_array();
	if (!root || json_object_set_new(root, "text", json_string(sum.ptr)) ||
	    json_object_set_new(root, "blocks", blocks) ||
	    json_array_append_new(blocks, head) ||
	    json_array_append_new(blocks, sec) ||
	    json_object_set_new(sec, "fields", fields) ||
	    mrkdwn(head, "text", sum.ptr) < 0 ||
	    fields_json(fields, ctx) < 0)
		goto oom;
	if (ctx->error && ctx->error->message) {
		json_t *eb = json_pack("{s:s}", "type", "section");

		if (json_array_append_new(blocks, eb) ||
		    cairn_buf_puts(&err, "*Error*\n```") < 0 ||
		    put_text(&err, ctx->error->message, ERROR_MAX, false) < 0 ||
		    (ctx->error->detail &&
		     (cairn_buf_putc(&err, '\n') < 0 ||
		      put_text(&err, ctx->error->detail, ERROR_MAX / 2,
			       false) < 0)) ||
		    cairn_buf_puts(&err, "```") < 0 ||
		    mrkdwn(eb, "text", err.ptr) < 0)
			goto oom;
	}
	*out = json_dumps(root, JSON_COMPACT);
	if (!*out)
		goto oom;
	rc = 0;
	goto out;
oom:
	cairn_error__oom();
out:
	json_decref(root);
	cairn_buf_dispose(&sum);
	cairn_buf_dispose(&err);
	return rc;
}

int cairn_webhook__body(char **out, cairn_webhook_format fmt,
			const cairn_hook_context *ctx)
{
	*out = NULL;
	if (fmt == CAIRN_WEBHOOK_SLACK)
		return slack_json(out, ctx);
	return cairn_hook_context_to_json(out, ctx);
}
