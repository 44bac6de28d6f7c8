/*
 * config_rev.h - reading cairn.yaml from a git revision instead of the
 * working tree, so a deploy of `--rev v1.3` runs v1.3's hooks with v1.3's
 * migrations (DESIGN 12, "Configuration at the revision").
 */
#ifndef CAIRN_SRC_CONFIG_REV_H
#define CAIRN_SRC_CONFIG_REV_H

#include "util/attrs.h"

#include "cairn/config.h"
#include "cairn/repo.h"

/*
 * Parses the blob `cairn.yaml` at the root of rev's tree (rev NULL or ""
 * is HEAD).  *out's path is "<rev>:cairn.yaml", the name its messages use
 * (git's own spelling of a file at a revision).  `commit` receives the
 * commit's id in hex.
 *
 * Returns 0; CAIRN_ENOTFOUND with no error set when the tree has no
 * cairn.yaml, or when rev is HEAD and HEAD is unborn (then `commit` is
 * ""); an error of class GIT for an unknown revision, CONFIG for a
 * cairn.yaml that is not a regular file (a symlink, a directory) or does
 * not parse.
 */
CAIRN_WARN_UNUSED int cairn_config__load_rev(cairn_config **out, char commit[CAIRN_OID_HEXSZ],
			   cairn_repo *repo, const char *rev,
			   const cairn_config_options *opts);

#endif
