/*
 * session.c - sessions made outside a migration run (see hook.h).
 */
#include <stdlib.h>

#include "util/error.h"
#include "session.h"
#include "util/util.h"

int cairn_session_new(cairn_session **out, cairn_db *db, const char *workdir)
{
	cairn_session *s = cairn__calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return CAIRN_ERROR;
	s->db = db;
	s->repo_workdir = workdir;
	*out = s;
	return 0;
}

void cairn_session_free(cairn_session *session)
{
	free(session);
}
