/*
 * project.h - the fixture most integration suites start from: a real git
 * repository whose cairn.yaml points the development environment at a
 * fresh database of the test server, with extra top-level YAML.
 */
#ifndef TU_PROJECT_H
#define TU_PROJECT_H

typedef struct {
	char *dir; /* the repository */
	char *url; /* its database */
} tu_project;

/* A fresh database named after db_prefix and a repository using it. */
void tu_project_init(tu_project *p, const char *db_prefix, const char *extra);
/* Writes a configuration file `name` in the repository (cairn.yaml, or
 * one for --config) with extra top-level YAML. */
void tu_project_write_config(tu_project *p, const char *name,
			     const char *extra);
void tu_project_dispose(tu_project *p);
/* Asserts that sql's first value on the project's database is want. */
void tu_project_assert_q(tu_project *p, const char *sql, const char *want);

#endif
