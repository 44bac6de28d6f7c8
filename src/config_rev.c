/*
 * config_rev.c - cairn.yaml read from a revision's tree; see config_rev.h.
 *
 * Only the root entry named exactly `cairn.yaml` counts, and only as a
 * regular blob (mode 100644 or 100755): a committed symlink named
 * cairn.yaml is refused rather than followed, since its target would be
 * read from the working tree, not from the revision.
 *
 * An sql hook's relative `sql_file` is read from the same tree, so the
 * revision's hooks run the revision's SQL, not today's: its text becomes
 * the hook's `sql` (sql_file stays, for names and messages).  An absolute
 * sql_file lies outside the repository and is read when the pipeline is
 * built, as for a configuration from the working tree.
 */
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "config_rev.h"
#include "util/error.h"
#include "repo_internal.h"
#include "util/util.h"

#define CONFIG_NAME "cairn.yaml"

static bool is_unborn_head(cairn_repo *repo, const char *rev)
{
	if (rev && *rev && strcmp(rev, "HEAD"))
		return false;
	return git_repository_head_unborn(cairn_repo__git(repo)) == 1;
}

/* Parses blob as the configuration called name. */
static int parse_blob(cairn_config **out, git_blob *blob, const char *name,
		      const cairn_config_options *opts)
{
	int rc;

	rc = cairn_config_parse(out, name, git_blob_rawcontent(blob),
				(size_t)git_blob_rawsize(blob), opts);
	if (rc < 0)
		return rc;
	(*out)->path = cairn__strdup(name);
	if (!(*out)->path) {
		cairn_config_free(*out);
		*out = NULL;
		return CAIRN_ERROR;
	}
	return 0;
}

/* The largest sql_file read from a revision (as hook_sql.c's limit). */
#define SQL_FILE_MAX ((size_t)16 * 1024 * 1024)

/* Sets spec->sql to the text of spec->sql_file in tree. */
static int inline_sql_file(cairn_hook_spec *spec, cairn_repo *repo,
			   git_tree *tree, const char *rev, const char *cfgname)
{
	const char *path = spec->sql_file;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	git_filemode_t mode;
	size_t len;
	int rc = CAIRN_ERROR;

	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (git_tree_entry_bypath(&e, tree, path) < 0) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
			"%s:%u:%u: sql_file '%s' of hook '%s' is not in revision '%s'",
			cfgname, spec->line, spec->column, spec->sql_file,
			spec->name ? spec->name : "sql", rev);
		cairn_error__hint("commit the file with the configuration that "
				  "names it, or pass --worktree or --config");
		goto out;
	}
	mode = git_tree_entry_filemode(e);
	if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
			"%s:%u:%u: sql_file '%s' at '%s' is not a regular file (mode %06o)",
			cfgname, spec->line, spec->column, spec->sql_file, rev,
			(unsigned)mode);
		goto out;
	}
	if (git_blob_lookup(&blob, cairn_repo__git(repo),
			    git_tree_entry_id(e)) < 0) {
		rc = cairn_repo__error("cannot read '%s:%s'", rev, path);
		goto out;
	}
	len = (size_t)git_blob_rawsize(blob);
	if (len > SQL_FILE_MAX ||
	    memchr(git_blob_rawcontent(blob), '\0', len)) {
		cairn_error__set(CAIRN_ERRCLASS_CONFIG,
			"%s:%u:%u: sql_file '%s' at '%s' is not a text file of at most 16 MiB",
			cfgname, spec->line, spec->column, spec->sql_file, rev);
		goto out;
	}
	if (!(spec->sql = cairn__calloc(1, len + 1)))
		goto out;
	memcpy(spec->sql, git_blob_rawcontent(blob), len);
	spec->sql[len] = '\0';
	rc = 0;
out:
	git_blob_free(blob);
	git_tree_entry_free(e);
	return rc;
}

static int inline_sql_files(cairn_config *cfg, cairn_repo *repo,
			    git_tree *tree, const char *rev)
{
	for (size_t i = 0; i < cfg->hooks_count; i++) {
		cairn_hook_spec *spec = &cfg->hooks[i];

		if (spec->kind != CAIRN_HOOK_SQL || spec->sql ||
		    !spec->sql_file || spec->sql_file[0] == '/')
			continue;
		if (inline_sql_file(spec, repo, tree, rev, cfg->path) < 0)
			return CAIRN_ERROR;
	}
	return 0;
}

int cairn_config__load_rev(cairn_config **out, char commit[CAIRN_OID_HEXSZ],
			   cairn_repo *repo, const char *rev,
			   const cairn_config_options *opts)
{
	git_oid commit_id, tree_id;
	git_tree *tree = NULL;
	git_blob *blob = NULL;
	const git_tree_entry *e;
	git_filemode_t mode;
	cairn_buf name = CAIRN_BUF_INIT;
	int rc;

	*out = NULL;
	commit[0] = '\0';
	if (!rev || !*rev)
		rev = "HEAD";
	if (is_unborn_head(repo, rev))
		return CAIRN_ENOTFOUND;
	/* resolved raw: a commit with a malformed author line still has a
	 * configuration */
	if ((rc = cairn_repo__resolve_commit(&commit_id, &tree_id, repo,
					     rev)) < 0)
		return rc;
	git_oid_tostr(commit, CAIRN_OID_HEXSZ, &commit_id);
	if (git_tree_lookup(&tree, cairn_repo__git(repo), &tree_id) < 0) {
		rc = cairn_repo__error("cannot read the tree of '%s'", rev);
		goto out;
	}
	e = git_tree_entry_byname(tree, CONFIG_NAME);
	if (!e) {
		rc = CAIRN_ENOTFOUND;
		goto out;
	}
	if (cairn_buf_printf(&name, "%s:%s", rev, CONFIG_NAME) < 0) {
		rc = CAIRN_ERROR;
		goto out;
	}
	mode = git_tree_entry_filemode(e);
	if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
		rc = cairn_error__set(CAIRN_ERRCLASS_CONFIG,
				      "'%s' is not a regular file (mode %06o)",
				      name.ptr, (unsigned)mode);
		cairn_error__hint("commit cairn.yaml itself, not a link or a "
				  "directory, or pass --config FILE");
		goto out;
	}
	if (git_blob_lookup(&blob, cairn_repo__git(repo),
			    git_tree_entry_id(e)) < 0) {
		rc = cairn_repo__error("cannot read '%s'", name.ptr);
		goto out;
	}
	rc = parse_blob(out, blob, name.ptr, opts);
	if (rc == 0 && inline_sql_files(*out, repo, tree, rev) < 0) {
		cairn_config_free(*out);
		*out = NULL;
		rc = CAIRN_ERROR;
	}
out:
	cairn_buf_dispose(&name);
	git_blob_free(blob);
	git_tree_free(tree);
	return rc;
}
