/*
 * actor.c - who is deploying: git identity, OS user, host, CI identity.
 *
 * The actor string ("Name <email>") goes into tracking rows, audit rows
 * and hook contexts; the JSON detail (OS user, host, CI system, CI actor
 * and run/job ids) goes into the audit row's detail.  The CI variables
 * read are the documented ones of GitHub Actions, GitLab CI, Buildkite,
 * Jenkins and CircleCI.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cairn/engine.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/util.h"

static void ci_identity(json_t *obj)
{
	static const struct {
		const char *probe, *system, *actor, *run;
	} systems[] = {
		{ "GITHUB_ACTIONS", "github", "GITHUB_ACTOR", "GITHUB_RUN_ID" },
		{ "GITLAB_CI", "gitlab", "GITLAB_USER_LOGIN", "CI_JOB_ID" },
		{ "BUILDKITE", "buildkite", "BUILDKITE_BUILD_CREATOR", "BUILDKITE_BUILD_ID" },
		{ "JENKINS_URL", "jenkins", "BUILD_USER_ID", "BUILD_TAG" },
		{ "CIRCLECI", "circleci", "CIRCLE_USERNAME", "CIRCLE_BUILD_NUM" },
	};

	for (size_t i = 0; i < CAIRN_ARRAY_SIZE(systems); i++) {
		const char *a, *r;
		json_t *ci;

		if (!getenv(systems[i].probe))
			continue;
		a = getenv(systems[i].actor);
		r = getenv(systems[i].run);
		ci = json_object();
		json_object_set_new(ci, "system", json_string(systems[i].system));
		if (a && json_string(a))
			json_object_set_new(ci, "actor", json_string(a));
		if (r && json_string(r))
			json_object_set_new(ci, "run_id", json_string(r));
		json_object_set_new(obj, "ci", ci);
		return;
	}
	if (getenv("CI")) {
		json_t *ci = json_object();

		json_object_set_new(ci, "system", json_string("unknown"));
		json_object_set_new(obj, "ci", ci);
	}
}

static json_t *str_or_null(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;

	return j ? j : json_null();
}

int cairn_actor_describe(char **actor, char **detail_json, cairn_repo *repo)
{
	char *name = NULL, *email = NULL, host[256] = "";
	const char *os_user = NULL;
	struct passwd *pw = getpwuid(geteuid());
	cairn_buf b = CAIRN_BUF_INIT;
	json_t *obj;

	*actor = NULL;
	if (detail_json)
		*detail_json = NULL;
	if (repo) {
		if (cairn_repo_config_string(&name, repo, "user.name") < 0 ||
		    cairn_repo_config_string(&email, repo, "user.email") < 0)
			cairn_error_clear();
	}
	os_user = pw ? pw->pw_name : getenv("USER");
	gethostname(host, sizeof(host) - 1);
	if (name && *name)
		cairn_buf_printf(&b, "%s <%s>", name, email ? email : "");
	else
		cairn_buf_printf(&b, "%s@%s", os_user ? os_user : "unknown",
				 host);
	*actor = cairn_buf_detach(&b);
	if (detail_json) {
		obj = json_object();
		json_object_set_new(obj, "git_user", str_or_null(name));
		json_object_set_new(obj, "git_email", str_or_null(email));
		json_object_set_new(obj, "os_user", str_or_null(os_user));
		json_object_set_new(obj, "host", str_or_null(host));
		ci_identity(obj);
		*detail_json = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(obj);
	}
	free(name);
	free(email);
	return *actor ? 0 : cairn_error__oom();
}

void cairn_run_id_new(char out[40])
{
	unsigned char r[16];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		int64_t t = cairn__now_us() ^ (int64_t)getpid() << 20;

		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(t >> ((i % 8) * 8)) ^ (unsigned char)(i * 37);
	}
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 40,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9],
		 r[10], r[11], r[12], r[13], r[14], r[15]);
}
