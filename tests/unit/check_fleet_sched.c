/*
 * check_fleet_sched.c - the fleet scheduler (src/fleet_run.c) and
 * targets whose server has no connection slot free: a call answering
 * CAIRN_FLEET_BUSY is run again later and is not a failure, workers
 * that see one stop so fewer calls run at once, new targets go before
 * busy ones, and a target busy CAIRN_FLEET_BUSY_TRIES times fails.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/fleet.h"

#define NT 10
#define SLOTS 2

struct pool {
	pthread_mutex_t mu;
	unsigned inside, most_ok;   /* calls at once; the most that got a slot */
	unsigned calls[NT];
	unsigned busy_for;          /* always busy after this many slots given */
};

static void nap_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* A server with SLOTS connection slots: a call beyond them is busy. */
static int with_slots(size_t idx, void *payload)
{
	struct pool *p = payload;
	bool got;

	pthread_mutex_lock(&p->mu);
	p->calls[idx]++;
	got = p->inside < SLOTS;
	if (got) {
		p->inside++;
		if (p->inside > p->most_ok)
			p->most_ok = p->inside;
	}
	pthread_mutex_unlock(&p->mu);
	if (!got)
		return CAIRN_FLEET_BUSY;
	nap_ms(20);
	pthread_mutex_lock(&p->mu);
	p->inside--;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

START_TEST(test_busy_targets_run_later)
{
	struct pool p;
	cairn_fleet_options o = CAIRN_FLEET_OPTIONS_INIT;
	cairn_fleet_outcome out[NT];
	unsigned total = 0;

	memset(&p, 0, sizeof(p));
	pthread_mutex_init(&p.mu, NULL);
	o.count = NT;
	o.parallel = 8;
	o.fn = with_slots;
	o.payload = &p;
	ck_assert_int_eq(cairn_fleet_run(out, &o), 0);
	for (size_t i = 0; i < NT; i++) {
		ck_assert_int_eq(out[i], CAIRN_FLEET_OK);
		total += p.calls[i];
	}
	ck_assert_uint_le(p.most_ok, SLOTS);
	/* with 8 workers and 2 slots some calls must have been busy */
	ck_assert_uint_gt(total, NT);
	pthread_mutex_destroy(&p.mu);
}
END_TEST

static int always_busy(size_t idx, void *payload)
{
	unsigned *calls = payload;

	calls[idx]++;
	return CAIRN_FLEET_BUSY;
}

START_TEST(test_always_busy_fails_after_the_tries)
{
	unsigned calls[2] = { 0, 0 };
	cairn_fleet_options o = CAIRN_FLEET_OPTIONS_INIT;
	cairn_fleet_outcome out[2];

	o.count = 2;
	o.parallel = 2;
	o.keep_going = true;
	o.fn = always_busy;
	o.payload = calls;
	ck_assert_int_eq(cairn_fleet_run(out, &o), 0);
	ck_assert_int_eq(out[0], CAIRN_FLEET_FAILED);
	ck_assert_int_eq(out[1], CAIRN_FLEET_FAILED);
	ck_assert_uint_eq(calls[0], CAIRN_FLEET_BUSY_TRIES);
	ck_assert_uint_eq(calls[1], CAIRN_FLEET_BUSY_TRIES);
}
END_TEST

/* Target 0 is always busy, target 1 fails. */
static int busy_then_fail(size_t idx, void *payload)
{
	unsigned *calls = payload;

	calls[idx]++;
	return idx == 0 ? CAIRN_FLEET_BUSY : 1;
}

START_TEST(test_stop_leaves_busy_targets_not_started)
{
	unsigned calls[3] = { 0, 0, 0 };
	cairn_fleet_options o = CAIRN_FLEET_OPTIONS_INIT;
	cairn_fleet_outcome out[3];

	/* new targets go before busy ones; a failure then stops the run
	 * and the busy target was never run: not started, not failed */
	o.count = 3;
	o.parallel = 1;
	o.fn = busy_then_fail;
	o.payload = calls;
	ck_assert_int_eq(cairn_fleet_run(out, &o), 0);
	ck_assert_int_eq(out[0], CAIRN_FLEET_NOT_STARTED);
	ck_assert_int_eq(out[1], CAIRN_FLEET_FAILED);
	ck_assert_int_eq(out[2], CAIRN_FLEET_NOT_STARTED);
	ck_assert_uint_eq(calls[0], 1);
	ck_assert_uint_eq(calls[2], 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fleet_sched");
	TCase *tc = tcase_create("sched");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_busy_targets_run_later);
	tcase_add_test(tc, test_always_busy_fails_after_the_tries);
	tcase_add_test(tc, test_stop_leaves_busy_targets_not_started);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
