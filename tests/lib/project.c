/*
 * project.c - the repository-plus-database fixture (project.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "project.h"
#include "testutil.h"

void tu_project_write_config(tu_project *p, const char *name,
			     const char *extra)
{
	char yaml[4096];

	snprintf(yaml, sizeof(yaml),
		 "migrations_dir: db/migrations\n"
		 "%s"
		 "environments:\n"
		 "  development:\n"
		 "    database_url: \"%s\"\n",
		 extra ? extra : "", p->url);
	tu_write(p->dir, name, yaml);
}

void tu_project_init(tu_project *p, const char *db_prefix, const char *extra)
{
	p->url = tu_db_create(db_prefix);
	p->dir = tu_git_repo();
	tu_project_write_config(p, "cairn.yaml", extra);
}

void tu_project_dispose(tu_project *p)
{
	tu_rmrf(p->dir);
	free(p->dir);
	free(p->url);
}

void tu_project_assert_q(tu_project *p, const char *sql, const char *want)
{
	char *v = tu_db_value(p->url, sql);

	ck_assert_msg(v && !strcmp(v, want), "%s: got '%s', want '%s'", sql,
		      v ? v : "(null)", want);
	free(v);
}
