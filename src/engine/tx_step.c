/*
 * tx_step.c - one file in its own transaction, the shape every
 * transactional step shares (a migration applied, a migration rolled
 * back, a repeatable migration applied):
 *
 *   BEGIN; SET LOCAL timeouts; [the pre event's in-transaction hooks]
 *   the file's SQL   (checked: still inside cairn's transaction)
 *   [the post event's in-transaction hooks]
 *   cairn's rows and COMMIT, in a message of their own
 *
 * The file goes in one message and cairn's rows in another, so the
 * transaction status can be checked between them: a file that ended the
 * transaction never gets a row, and a failure in the rows is never
 * blamed on a line of the file.  What differs between the steps (which
 * file, which events, which rows) comes in a run_tx_step.
 *
 * Also here: a batch of rows sent with its COMMIT, rolled back on
 * failure (baseline, import).
 */
#include <libpq-fe.h>

#include "db.h"
#include "run.h"
#include "util/error.h"

void run__rollback_open(run *r)
{
	cairn_error_saved saved;

	if (!r->tx_open)
		return;
	cairn_error__save(&saved);
	if (cairn_db_is_ok(r->o->db) &&
	    PQtransactionStatus(cairn_db__conn(r->o->db)) != PQTRANS_IDLE)
		PQclear(cairn_db__exec(r->o->db, "ROLLBACK"));
	cairn_error__restore(&saved);
	r->tx_open = false;
}

/* BEGIN and the timeouts, then the pre event's hooks inside it. */
static int open_tx(run *r, cairn_buf *b, cairn_migration *m,
		   const run_tx_step *s, size_t *prefix)
{
	int rc;

	cairn_buf_puts(b, RUN_BEGIN ";\n");
	*prefix = 1;
	(void)run__add_timeouts(r, b, s->directives, true, prefix);
	if (!r->in_tx_hooks[s->pre])
		return 0;
	if ((rc = run__send(r, b, m, s->path, NULL, 0, 0, *prefix)) < 0)
		return rc;
	r->tx_open = true;
	rc = run__fire(r, s->pre, m, CAIRN_FIRE_INSIDE_TX, s->pre_state, 0,
		       true);
	cairn_buf_clear(b);
	*prefix = 0;
	return rc;
}

int run__tx_step(run *r, cairn_migration *m, const run_tx_step *s)
{
	cairn_buf b = CAIRN_BUF_INIT;
	size_t prefix, sql_off;
	int rc;

	if ((rc = open_tx(r, &b, m, s, &prefix)) < 0)
		goto fail;
	sql_off = b.size;
	cairn_buf_put(&b, s->sql, s->len);
	cairn_buf_puts(&b, "\n;\n");
	if ((rc = run__send(r, &b, m, s->path, s->sql, s->len, sql_off,
			    prefix)) < 0) {
		run__failed_tx_check(r, m, s->path);
		goto out;
	}
	r->tx_open = true;
	if ((rc = run__check_tx(r, m, s->path, true)) < 0)
		goto out;
	if (r->in_tx_hooks[s->post] &&
	    (rc = run__fire(r, s->post, m, CAIRN_FIRE_INSIDE_TX,
			    s->post_state, 0, true)) < 0)
		goto fail;
	cairn_buf_clear(&b);
	if ((rc = s->rows(r, &b, m)) < 0 ||
	    (rc = run__send_record(r, &b, m)) < 0)
		goto fail;
	r->tx_open = false;
	goto out;
fail:
	run__rollback_open(r);
out:
	cairn_buf_dispose(&b);
	return rc;
}

int run__commit_batch(run *r, cairn_buf *b, int rc)
{
	cairn_buf_puts(b, "COMMIT");
	if (rc == 0 && (rc = cairn_buf_check(b)) == 0)
		rc = cairn_db_exec(r->o->db, b->ptr);
	if (rc < 0) {
		r->tx_open = true;
		run__rollback_open(r);
	}
	return rc;
}
