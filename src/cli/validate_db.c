/*
 * validate_db.c - validate's checks that need more than the migration
 * files: the environment's database (drift, missing, failed rows,
 * pending migrations below the highest applied one) and the shadow
 * database (the whole chain applied to a throwaway cluster).
 *
 * The database check is best effort: when the database cannot be reached
 * validate says so in one line and goes on, because CI gates often run
 * without one.  The shadow check is explicit (--shadow) and its failure
 * is a finding naming the migration, file and line of the statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/devdb.h"
#include "cairn/engine.h"
#include "cairn/lint.h"
#include "dbopen.h"
#include "util/spawn.h"
#include "validate_db.h"

static int check_database(struct cli *cli, cairn_migration_set *set,
			  cairn_findings *findings)
{
	const cairn_environment *env;
	cairn_applied_list applied = { NULL, 0, NULL };
	cairn_status_entry *e = NULL;
	cairn_db *db = NULL;
	char *why = NULL;
	size_t n = 0;
	int rc;

	if ((rc = cli_env(cli, &env)))
		return rc;
	if ((rc = cli_open_db_optional(cli, &db, &why)))
		return rc;
	if (!db) {
		cli_notef(cli, "note: %s; skipped the database checks (drift, missing)",
			  why ? why : "no database");
		free(why);
		return 0;
	}
	if (cairn_applied_load_brief(&applied, db) < 0 ||
	    cairn_status_compute(&e, &n, set, &applied) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const cairn_migration *m = e[i].migration;
		const cairn_applied *a = e[i].applied;
		char hint[200];

		switch (e[i].state) {
		case CAIRN_STATE_DRIFTED:
			snprintf(hint, sizeof(hint),
				 "restore the file, or run 'cairn repair --accept %s' if the edit is intended",
				 a->version);
			cairn_findings_add(findings, "drift", CAIRN_SEVERITY_ERROR,
				m->up_path, 0, m->version, hint, NULL,
				"migration %s_%s differs from what %s applied (checksum %.12s, applied %.12s)",
				m->version_text, m->name, env->name, m->checksum, a->checksum);
			break;
		case CAIRN_STATE_MISSING:
			cairn_findings_add(findings, "missing", CAIRN_SEVERITY_ERROR,
				NULL, 0, a->version,
				"check out the branch that has it, or roll it back there",
				NULL, "migration %s_%s is applied in %s but absent at this revision",
				a->version, a->name, env->name);
			break;
		case CAIRN_STATE_FAILED:
		case CAIRN_STATE_RUNNING:
			snprintf(hint, sizeof(hint),
				 "check the database, then 'cairn repair --resolve %s'", a->version);
			cairn_findings_add(findings, "failed", CAIRN_SEVERITY_ERROR,
				m ? m->up_path : NULL, 0, a->version, hint, NULL,
				"migration %s_%s %s in %s", a->version, a->name,
				e[i].state == CAIRN_STATE_FAILED ? "failed" : "never finished",
				env->name);
			break;
		case CAIRN_STATE_PENDING:
			if (e[i].out_of_order)
				cairn_findings_add(findings, "out-of-order",
					env->allow_out_of_order ? CAIRN_SEVERITY_WARNING : CAIRN_SEVERITY_ERROR,
					m->up_path, 0, m->version,
					"renumber it above the highest applied version, or set allow_out_of_order",
					NULL, "pending migration %s_%s is numbered below the highest migration applied in %s",
					m->version_text, m->name, env->name);
			break;
		case CAIRN_STATE_APPLIED:
			break;
		}
	}
	rc = 0;
out:
	free(e);
	cairn_applied_list_dispose(&applied);
	cairn_db_free(db);
	return rc;
}

/* Applies the whole chain to a throwaway database. */
static int check_shadow(struct cli *cli, cairn_migration_set *set,
			cairn_findings *findings)
{
	const cairn_config *cfg;
	cairn_devdb_options dopts = CAIRN_DEVDB_OPTIONS_INIT;
	cairn_db_options dbo = CAIRN_DB_OPTIONS_INIT;
	cairn_run_options ro = CAIRN_RUN_OPTIONS_INIT;
	cairn_run_result res;
	cairn_db *db = NULL, *admin = NULL;
	char tmpl[] = "/tmp/cairn-shadow-XXXXXX", *dir = NULL, *url = NULL;
	char dbname[64] = "", *shadow_url = NULL;
	cairn_repo *repo;
	int rc;

	memset(&res, 0, sizeof(res));
	if ((rc = cli_config(cli, &cfg)) || (rc = cli_repo(cli, &repo)))
		return rc;
	if (cfg->shadow_database_url && *cfg->shadow_database_url) {
		/* a fresh database on the configured server, dropped after */
		char sql[128];

		dbo.conninfo = cfg->shadow_database_url;
		dbo.application_name = "cairn shadow";
		if (cairn_db_connect(&admin, &dbo) < 0) {
			rc = cli_report_error(cli);
			goto out;
		}
		snprintf(dbname, sizeof(dbname), "cairn_shadow_%d", (int)getpid());
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
		if (cairn_db_exec(admin, sql) < 0 ||
		    cairn_db_conninfo_with_dbname(&shadow_url,
						  cfg->shadow_database_url,
						  dbname) < 0) {
			rc = cli_report_error(cli);
			goto out;
		}
		dbo.conninfo = shadow_url;
	} else {
		dir = mkdtemp(tmpl);
		if (!dir) {
			cli_errorf(cli, "cannot create a directory for the shadow database");
			rc = CLI_EXIT_FAIL;
			goto out;
		}
		chmod(dir, 0755);
		dopts.repo_workdir = dir;
		cli_notef(cli, "starting a shadow database in %s", dir);
		if (cairn_devdb_start(&url, &dopts) < 0) {
			rc = cli_report_error(cli);
			goto out;
		}
		dbo.conninfo = url;
	}
	dbo.schema = cfg->schema;
	dbo.application_name = "cairn shadow";
	if (cairn_db_connect(&db, &dbo) < 0) {
		rc = cli_report_error(cli);
		goto out;
	}
	ro.repo = repo;
	ro.set = set;
	ro.db = db;
	ro.environment = "shadow";
	ro.deploy_rev = cli->worktree ? "worktree" : cairn_migration_set_commit(set);
	ro.allow_out_of_order = true;
	ro.workdir = cairn_repo_workdir(repo);
	if (cairn_migrate_up(&res, &ro) < 0) {
		const cairn_error *e = cairn_error_last();

		if (res.findings.count) {
			/* the static checks above already reported these */
			cli_notef(cli, "shadow database: not applied; the problems reported stop the chain");
		} else {
			cairn_findings_add(findings, "shadow", CAIRN_SEVERITY_ERROR,
				res.failed_file[0] ? res.failed_file : NULL,
				res.failed_line,
				res.failed_version[0] ? res.failed_version : NULL,
				e && e->hint ? e->hint : "fix the statement; the shadow database shows what a fresh database would do",
				NULL, "shadow database: %s%s%s",
				e ? e->message : "the chain failed",
				e && e->detail ? " — " : "",
				e && e->detail ? e->detail : "");
		}
		cairn_error_clear();
	} else if (cli->verbosity >= 0) {
		cli_notef(cli, "shadow database: %zu migrations applied cleanly", res.done);
	}
	rc = 0;
out:
	cairn_run_result_dispose(&res);
	cairn_db_free(db);
	if (admin && dbname[0]) {
		char sql[128];

		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", dbname);
		cairn_db_exec(admin, sql);
		cairn_error_clear();
	}
	cairn_db_free(admin);
	if (dir) {
		/* remove the throwaway cluster (argv, no shell) */
		const char *argv_rm[] = { "rm", "-rf", dir, NULL };
		cairn_spawn_options so = CAIRN_SPAWN_OPTIONS_INIT;
		cairn_spawn_result sr;

		cairn_devdb_stop(&dopts);
		cairn_error_clear();
		so.argv = argv_rm;
		so.timeout_ms = 60000;
		if (cairn_spawn_run(&sr, &so) < 0 || sr.status != 0)
			cli_warnf(cli, "could not remove the shadow database's directory '%s'",
				  dir);
		cairn_spawn_result_dispose(&sr);
		cairn_error_clear();
	}
	free(url);
	free(shadow_url);
	return rc;
}

int cli_validate_extra(struct cli *cli, cairn_migration_set *set,
		       cairn_findings *findings, bool use_db, bool shadow)
{
	cairn_lint_options lo = CAIRN_LINT_OPTIONS_INIT;
	const cairn_config *cfg = NULL;
	int rc;

	/* cairn_validate_run reported the syntax errors already */
	lo.skip_syntax = true;
	if ((rc = cli_config(cli, &cfg)))
		return rc;
	cairn_lint_options_from_config(&lo, cfg);
	if (cairn_lint_set(findings, set, &lo) < 0)
		return cli_report_error(cli);
	if (use_db && (rc = check_database(cli, set, findings)))
		return rc;
	if (shadow && (rc = check_shadow(cli, set, findings)))
		return rc;
	return 0;
}
