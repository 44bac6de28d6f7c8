/*
 * repo.c - the git repository cairn reads migrations from; see
 * include/cairn/repo.h.
 *
 * A cairn_repo is a libgit2 repository discovered from a path, plus
 * copies of its directories.  Opening calls git_libgit2_init() and
 * freeing calls git_libgit2_shutdown(): libgit2 counts these calls, so
 * any number of repositories (and migration sets, which hold their own
 * reference to the object database) may be open at once.
 *
 * Errors from libgit2 become CAIRN_ERRCLASS_GIT errors: the primary line
 * is ours ("cannot resolve revision 'v9'"), libgit2's own message goes
 * into the detail, and a hint says what to do where we know it.
 *
 * Objects, trees and commit headers are read by the git object layer
 * (src/git/); this file builds commit records on its parser.
 */
#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/error.h"
#include "repo_internal.h"
#include "util/util.h"

git_repository *cairn_repo__git(cairn_repo *repo)
{
	return repo->git;
}

static char *dup_dir(const char *s)
{
	return s ? cairn__strdup(s) : NULL;
}

int cairn_repo_open(cairn_repo **out, const char *path)
{
	cairn_repo *repo = NULL;
	git_repository *git = NULL;
	int rc;

	*out = NULL;
	if (!path || !*path)
		path = ".";
	if (git_libgit2_init() < 0)
		return cairn_repo__error("cannot initialize libgit2");
	rc = git_repository_open_ext(&git, path, 0, NULL);
	if (rc == GIT_ENOTFOUND) {
		cairn_error__set(CAIRN_ERRCLASS_GIT,
				 "not a git repository: '%s'", path);
		cairn_error__detail("No .git directory was found at '%s' or "
				    "in any of its parents.", path);
		cairn_error__hint("run cairn inside a git repository, pass "
				  "-C DIR, or create one with 'git init'");
		rc = CAIRN_ENOTFOUND;
		goto out;
	}
	if (rc < 0) {
		rc = cairn_repo__error("cannot open repository '%s'", path);
		goto out;
	}
	repo = cairn__calloc(1, sizeof(*repo));
	if (!repo) {
		rc = CAIRN_ERROR;
		goto out;
	}
	repo->git = git;
	git = NULL;
	repo->path = cairn__strdup(path);
	repo->workdir = dup_dir(git_repository_workdir(repo->git));
	repo->gitdir = dup_dir(git_repository_path(repo->git));
	repo->commondir = dup_dir(git_repository_commondir(repo->git));
	if (!repo->path || !repo->gitdir || !repo->commondir ||
	    (git_repository_workdir(repo->git) && !repo->workdir)) {
		rc = CAIRN_ERROR;
		goto out;
	}
	*out = repo;
	repo = NULL;
	rc = 0;
out:
	git_repository_free(git);
	if (repo)
		cairn_repo_free(repo);
	else if (rc < 0)
		git_libgit2_shutdown();
	return rc;
}

void cairn_repo_free(cairn_repo *repo)
{
	if (!repo)
		return;
	git_repository_free(repo->git);
	free(repo->path);
	free(repo->workdir);
	free(repo->gitdir);
	free(repo->commondir);
	free(repo);
	git_libgit2_shutdown();
}

const char *cairn_repo_workdir(const cairn_repo *repo)
{
	return repo->workdir;
}

const char *cairn_repo_gitdir(const cairn_repo *repo)
{
	return repo->gitdir;
}

const char *cairn_repo_commondir(const cairn_repo *repo)
{
	return repo->commondir;
}

/*
 * Parses rev to an object; unknown revisions become CAIRN_ENOTFOUND with
 * a hint.  ref_out may be NULL.
 */
static int revparse(git_object **out, git_reference **ref_out,
		    cairn_repo *repo, const char *rev)
{
	git_reference *ref = NULL;
	int rc;

	*out = NULL;
	if (ref_out)
		*ref_out = NULL;
	if (!rev || !*rev)
		rev = "HEAD";
	rc = git_revparse_ext(out, &ref, repo->git, rev);
	if (rc == 0) {
		if (ref_out)
			*ref_out = ref;
		else
			git_reference_free(ref);
		return 0;
	}
	if (rc == GIT_EAMBIGUOUS) {
		cairn_repo__error("cannot resolve revision '%s'", rev);
		cairn_error__hint("the abbreviated id is ambiguous; give more "
				  "digits");
		return CAIRN_ERROR;
	}
	if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH ||
	    rc == GIT_EINVALIDSPEC) {
		cairn_repo__error("cannot resolve revision '%s'", rev);
		if (git_repository_head_unborn(repo->git) == 1)
			cairn_error__hint("the repository has no commits "
					  "yet; commit the migrations first");
		else
			cairn_error__hint("give a branch, a tag, a commit id "
					  "or an expression such as HEAD~1");
		return CAIRN_ENOTFOUND;
	}
	return cairn_repo__error("cannot resolve revision '%s'", rev);
}

int cairn_repo__lookup_commit(git_commit **out, cairn_repo *repo,
			      const char *rev)
{
	git_object *obj = NULL, *peeled = NULL;
	int rc;

	*out = NULL;
	if (!rev || !*rev)
		rev = "HEAD";
	rc = revparse(&obj, NULL, repo, rev);
	if (rc < 0)
		return rc;
	if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		rc = cairn_repo__error("cannot use revision '%s': it does "
				       "not name a commit", rev);
		goto out;
	}
	*out = (git_commit *)peeled;
	rc = 0;
out:
	git_object_free(obj);
	return rc;
}

/*
 * Reads commit id raw: its tree.  CAIRN_ENOTFOUND (no error set) when it
 * is not a commit that can be read.
 */
static int raw_commit_tree(git_oid *tree, git_repository *git,
			   const git_oid *id)
{
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	cairn_git_commit c;
	int rc = CAIRN_ENOTFOUND;

	if (git_repository_odb(&odb, git) == 0 &&
	    git_odb_read(&obj, odb, id) == 0 &&
	    git_odb_object_type(obj) == GIT_OBJECT_COMMIT &&
	    cairn_git__commit_parse(&c, git_odb_object_data(obj),
				    git_odb_object_size(obj)) == 0) {
		*tree = c.tree;
		rc = 0;
	}
	git_error_clear();
	cairn_error_clear();
	git_odb_object_free(obj);
	git_odb_free(odb);
	return rc;
}

/*
 * libgit2 refuses to parse a commit whose author or committer line it
 * cannot split, and so to resolve any revision that names one.  git
 * itself shows such commits.  For a reference or a full commit id we can
 * still find the commit and read it raw.
 */
static int resolve_raw(git_oid *id, git_oid *tree, cairn_repo *repo,
		       const char *rev)
{
	git_reference *ref = NULL, *res = NULL;
	int rc = CAIRN_ENOTFOUND;

	if (git_reference_dwim(&ref, repo->git, rev) == 0 &&
	    git_reference_resolve(&res, ref) == 0 &&
	    git_reference_target(res)) {
		*id = *git_reference_target(res);
		rc = 0;
	} else if (strlen(rev) == GIT_OID_HEXSZ &&
		   git_oid_fromstr(id, rev) == 0) {
		rc = 0;
	}
	git_reference_free(ref);
	git_reference_free(res);
	git_error_clear();
	if (rc == 0)
		rc = raw_commit_tree(tree, repo->git, id);
	return rc;
}

int cairn_repo__resolve_commit(git_oid *id, git_oid *tree, cairn_repo *repo,
			       const char *rev)
{
	git_commit *commit = NULL;
	int rc;

	if (!rev || !*rev)
		rev = "HEAD";
	/*
	 * A reference or a full id to a commit: read it raw, before libgit2
	 * parses (and, on a malformed author line, refuses) it.  Anything
	 * else (expressions, abbreviated ids, tags) goes through libgit2.
	 */
	if (resolve_raw(id, tree, repo, rev) == 0)
		return 0;
	rc = cairn_repo__lookup_commit(&commit, repo, rev);
	if (rc < 0)
		return rc;
	*id = *git_commit_id(commit);
	*tree = *git_commit_tree_id(commit);
	git_commit_free(commit);
	return 0;
}

int cairn_repo_resolve(char out[CAIRN_OID_HEXSZ], cairn_repo *repo,
		       const char *rev)
{
	git_oid id, tree;
	int rc;

	out[0] = '\0';
	rc = cairn_repo__resolve_commit(&id, &tree, repo, rev);
	if (rc < 0)
		return rc;
	git_oid_tostr(out, CAIRN_OID_HEXSZ, &id);
	return 0;
}

int cairn_repo_ref_name(char **out, cairn_repo *repo, const char *rev)
{
	git_object *obj = NULL;
	git_reference *ref = NULL, *head = NULL;
	const char *name = NULL;
	int rc;

	*out = NULL;
	if (!rev || !*rev)
		rev = "HEAD";
	if (!strcmp(rev, "HEAD") || !strcmp(rev, "@")) {
		rc = git_repository_head(&head, repo->git);
		if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND)
			return revparse(&obj, NULL, repo, rev);
		if (rc < 0)
			return cairn_repo__error("cannot read HEAD of '%s'",
						 repo->path);
		if (git_repository_head_detached(repo->git) != 1)
			name = git_reference_name(head);
		rc = 0;
		goto out;
	}
	rc = revparse(&obj, &ref, repo, rev);
	if (rc < 0)
		return rc;
	if (ref) {
		if (git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC)
			name = git_reference_symbolic_target(ref);
		else
			name = git_reference_name(ref);
		if (name && !strcmp(name, "HEAD"))
			name = NULL;
	}
out:
	if (name) {
		*out = cairn__strdup(name);
		if (!*out)
			rc = CAIRN_ERROR;
	}
	git_reference_free(head);
	git_reference_free(ref);
	git_object_free(obj);
	return rc;
}

/* ---- commit records from raw commit objects ---------------------------- */

/* Appends s with every byte that is not valid UTF-8 (and NUL) as U+FFFD. */
static int put_utf8_replaced(cairn_buf *b, const char *s, size_t len)
{
	static const char repl[] = "\xef\xbf\xbd";
	size_t bad;
	int rc = 0;

	while (len && rc == 0) {
		const char *nul = memchr(s, '\0', len);
		size_t n = nul ? (size_t)(nul - s) : len;

		if (cairn__utf8_valid(s, n, &bad))
			bad = n;
		rc = cairn_buf_put(b, s, bad);
		if (rc == 0 && bad < len)
			rc = cairn_buf_put(b, repl, 3);
		if (bad >= len)
			break;
		s += bad + 1;
		len -= bad + 1;
	}
	return rc;
}

/* An encoding name safe to hand to iconv_open(3) (no paths, no suffixes). */
static bool plain_charset(const char *enc, size_t n)
{
	size_t i;

	if (!n || n > 40)
		return false;
	for (i = 0; i < n; i++) {
		char c = enc[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.' || c == ':'))
			return false;
	}
	return true;
}

static bool is_utf8_name(const char *enc, size_t n)
{
	return (n == 5 && !strncasecmp(enc, "utf-8", 5)) ||
	       (n == 4 && !strncasecmp(enc, "utf8", 4));
}

/*
 * Converts s from charset enc with iconv(3); a byte that cannot be
 * converted becomes U+FFFD.  Returns 1 when iconv does not know enc.
 */
static int put_iconv(cairn_buf *b, const char *s, size_t len, const char *enc)
{
	iconv_t cd = iconv_open("UTF-8", enc);
	char *in = (char *)s;
	size_t left = len;
	int rc = 0;

	if (cd == (iconv_t)-1)
		return 1;
	while (left && rc == 0) {
		char chunk[256], *out = chunk;
		size_t room = sizeof(chunk);
		size_t r = iconv(cd, &in, &left, &out, &room);

		rc = cairn_buf_put(b, chunk, (size_t)(out - chunk));
		if (r != (size_t)-1 || rc < 0)
			continue;
		if (errno == E2BIG)
			continue;
		/* EILSEQ or EINVAL: one byte we cannot read */
		rc = cairn_buf_put(b, "\xef\xbf\xbd", 3);
		in++;
		left--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	iconv_close(cd);
	return rc;
}

char *cairn_repo__to_utf8(const char *s, size_t len, const char *enc,
			  size_t enclen)
{
	cairn_buf b = CAIRN_BUF_INIT, out = CAIRN_BUF_INIT;
	char name[48];
	int rc = 1;

	if (enc && plain_charset(enc, enclen) && !is_utf8_name(enc, enclen)) {
		memcpy(name, enc, enclen);
		name[enclen] = '\0';
		rc = put_iconv(&b, s, len, name);
		if (rc < 0)
			goto fail;
	}
	if (rc == 1) {
		/* UTF-8 (the default), or a charset iconv does not know */
		if (put_utf8_replaced(&out, s, len) < 0)
			goto fail;
	} else if (put_utf8_replaced(&out, b.ptr, b.size) < 0) {
		goto fail;
	}
	cairn_buf_dispose(&b);
	return cairn_buf_detach(&out);
fail:
	cairn_buf_dispose(&b);
	cairn_buf_dispose(&out);
	return NULL;
}

/*
 * The summary of a message, as git shows it: the first paragraph, its
 * lines joined by spaces, leading blank lines and whitespace dropped.
 */
static void summary_span(const char **out, size_t *n, const char *m,
			 size_t len, cairn_buf *join)
{
	const char *end = m + len;

	while (m < end && (*m == '\n' || *m == ' ' || *m == '\t' ||
			   *m == '\r'))
		m++;
	*out = m;
	*n = 0;
	while (m < end) {
		const char *nl = memchr(m, '\n', (size_t)(end - m));
		const char *le = nl ? nl : end;
		const char *t = le;

		while (t > m && (t[-1] == ' ' || t[-1] == '\t' ||
				 t[-1] == '\r'))
			t--;
		if (t == m)
			break; /* a blank line ends the paragraph */
		if (join->size && cairn_buf_putc(join, ' ') < 0)
			return;
		if (cairn_buf_put(join, m, (size_t)(t - m)) < 0)
			return;
		m = nl ? nl + 1 : end;
	}
	*out = join->ptr;
	*n = join->size;
}

int cairn_repo__commit_info_raw(cairn_commit_info *out, const git_oid *id,
				const unsigned char *data, size_t len)
{
	cairn_git_commit c;
	cairn_git_sig sig;
	cairn_buf join = CAIRN_BUF_INIT;
	const char *sum;
	size_t sumlen;

	memset(out, 0, sizeof(*out));
	if (cairn_git__commit_parse(&c, data, len) < 0)
		return CAIRN_ERROR;
	git_oid_tostr(out->sha, sizeof(out->sha), id);
	cairn_git__signature_parse(&sig, c.author ? c.author : "",
				   c.author_len);
	out->author_name = cairn_repo__to_utf8(sig.name, sig.name_len,
					       c.encoding, c.encoding_len);
	out->author_email = cairn_repo__to_utf8(sig.email, sig.email_len,
						c.encoding, c.encoding_len);
	out->author_time = sig.time;
	out->author_offset = sig.offset;
	out->malformed_author = sig.malformed || !c.author;
	summary_span(&sum, &sumlen, c.message ? c.message : "",
		     c.message_len, &join);
	out->summary = cairn_repo__to_utf8(sum, sumlen, c.encoding,
					   c.encoding_len);
	cairn_buf_dispose(&join);
	if (!out->author_name || !out->author_email || !out->summary) {
		cairn_commit_info_dispose(out);
		return cairn_error__oom();
	}
	return 0;
}

int cairn_repo__commit_info_read(cairn_commit_info *out, git_repository *git,
				 const git_oid *id)
{
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (git_repository_odb(&odb, git) < 0)
		return cairn_repo__error("cannot open the object database");
	if (git_odb_read(&obj, odb, id) < 0) {
		rc = cairn_repo__error("cannot read commit %s",
				       git_oid_tostr_s(id));
	} else if (git_odb_object_type(obj) != GIT_OBJECT_COMMIT) {
		rc = cairn_error__set(CAIRN_ERRCLASS_GIT, "%s is not a commit",
				      git_oid_tostr_s(id));
	} else {
		rc = cairn_repo__commit_info_raw(
			out, id, git_odb_object_data(obj),
			git_odb_object_size(obj));
	}
	git_odb_object_free(obj);
	git_odb_free(odb);
	return rc;
}

int cairn_repo_commit_info(cairn_commit_info *out, cairn_repo *repo,
			   const char *rev)
{
	git_oid id, tree;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cairn_repo__resolve_commit(&id, &tree, repo, rev);
	if (rc < 0)
		return rc;
	return cairn_repo__commit_info_read(out, repo->git, &id);
}

void cairn_commit_info_dispose(cairn_commit_info *info)
{
	if (!info)
		return;
	free(info->author_name);
	free(info->author_email);
	free(info->summary);
	memset(info, 0, sizeof(*info));
}

int cairn_commit_info_copy(cairn_commit_info *out,
			   const cairn_commit_info *src)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->sha, src->sha, sizeof(out->sha));
	out->author_time = src->author_time;
	out->author_offset = src->author_offset;
	out->malformed_author = src->malformed_author;
	out->author_name = cairn__strdup(src->author_name ? src->author_name
							  : "");
	out->author_email = cairn__strdup(src->author_email ?
					  src->author_email : "");
	out->summary = cairn__strdup(src->summary ? src->summary : "");
	if (!out->author_name || !out->author_email || !out->summary) {
		cairn_commit_info_dispose(out);
		return CAIRN_ERROR;
	}
	return 0;
}

static const char *status_word(unsigned int s)
{
	if (s & (GIT_STATUS_INDEX_NEW | GIT_STATUS_INDEX_MODIFIED |
		 GIT_STATUS_INDEX_DELETED | GIT_STATUS_INDEX_RENAMED |
		 GIT_STATUS_INDEX_TYPECHANGE))
		return "has staged changes";
	if (s & GIT_STATUS_WT_DELETED)
		return "is deleted";
	if (s & GIT_STATUS_CONFLICTED)
		return "has a merge conflict";
	return "is modified";
}

int cairn_repo_is_dirty(bool *out, char **detail, cairn_repo *repo)
{
	git_status_options opts;
	git_status_list *list = NULL;
	const git_status_entry *e;
	cairn_buf msg = CAIRN_BUF_INIT;
	size_t i, n;
	int rc;

	*out = false;
	if (detail)
		*detail = NULL;
	if (git_repository_is_bare(repo->git))
		return 0;
	git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&list, repo->git, &opts) < 0)
		return cairn_repo__error("cannot read the status of '%s'",
					 repo->workdir);
	n = git_status_list_entrycount(list);
	for (i = 0; i < n; i++) {
		const char *path;

		e = git_status_byindex(list, i);
		if (!e || e->status == GIT_STATUS_CURRENT ||
		    (e->status & (GIT_STATUS_WT_NEW | GIT_STATUS_IGNORED)) ==
			    e->status)
			continue;
		*out = true;
		if (!detail)
			break;
		path = e->head_to_index ? e->head_to_index->new_file.path
					: e->index_to_workdir ?
					  e->index_to_workdir->new_file.path :
					  "?";
		rc = cairn_buf_printf(&msg, "'%s' %s", path,
				      status_word(e->status));
		if (rc == 0 && n - i > 1)
			rc = cairn_buf_printf(&msg, " (and %zu more)",
					      n - i - 1);
		if (rc < 0)
			goto fail;
		*detail = cairn_buf_detach(&msg);
		if (!*detail)
			goto fail;
		break;
	}
	git_status_list_free(list);
	return 0;
fail:
	cairn_buf_dispose(&msg);
	git_status_list_free(list);
	return CAIRN_ERROR;
}

int cairn_repo_is_ancestor(bool *out, cairn_repo *repo, const char *ancestor,
			   const char *descendant)
{
	git_oid a, d, tree;
	int rc;

	*out = false;
	rc = cairn_repo__resolve_commit(&a, &tree, repo, ancestor);
	if (rc == 0)
		rc = cairn_repo__resolve_commit(&d, &tree, repo, descendant);
	if (rc < 0)
		return rc;
	if (git_oid_equal(&a, &d)) {
		*out = true;
		return 0;
	}
	rc = git_graph_descendant_of(repo->git, &d, &a);
	if (rc < 0)
		return cairn_repo__error("cannot compare '%s' with '%s'",
					 ancestor, descendant);
	*out = rc == 1;
	return 0;
}

int cairn_repo_config_string(char **out, cairn_repo *repo, const char *key)
{
	git_config *cfg = NULL;
	const char *value = NULL;
	int rc;

	*out = NULL;
	if (git_repository_config_snapshot(&cfg, repo->git) < 0)
		return cairn_repo__error("cannot read the git configuration "
					 "of '%s'", repo->path);
	rc = git_config_get_string(&value, cfg, key);
	if (rc == GIT_ENOTFOUND) {
		rc = 0;
	} else if (rc < 0) {
		rc = cairn_repo__error("cannot read git configuration '%s'",
				       key);
	} else {
		*out = cairn__strdup(value);
		rc = *out ? 0 : CAIRN_ERROR;
	}
	git_config_free(cfg);
	return rc;
}
