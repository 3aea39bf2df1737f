/* The Check runner every tests/check_*.c ends with. */
#ifndef PROFD_CHECK_MAIN_H
#define PROFD_CHECK_MAIN_H

#include <check.h>
#include <stdarg.h>
#include <stddef.h>

/* Runs the suites (a NULL-ended list) in Check's fork mode, verbosity
 * from CK_VERBOSITY (normal by default); 0 if every test passed, else 1. */
static inline int
check_run(Suite *first, ...)
{
	SRunner *sr = srunner_create(first);
	Suite *s;
	va_list ap;
	int failed;

	va_start(ap, first);
	while ((s = va_arg(ap, Suite *)) != NULL)
		srunner_add_suite(sr, s);
	va_end(ap);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

/* The suite NAME of one test case, NAME too, holding the n tests. */
static inline Suite *
check_suite_of(const char *name, const TTest *const *tests, size_t n)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create(name);

	for (size_t i = 0; i < n; i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	return s;
}

/* CHECK_SUITE("log", test_a, test_b): the suite of those tests. */
#define CHECK_SUITE(name, ...)                                                 \
	check_suite_of(name, (const TTest *const[]){__VA_ARGS__},              \
		       sizeof((const TTest *const[]){__VA_ARGS__}) /           \
			   sizeof(const TTest *))

/* The program's main(): runs the suites given, e.g.
 * CHECK_MAIN(stacks_suite()) or CHECK_MAIN(CHECK_SUITE("log", test_a)). */
#define CHECK_MAIN(...)                                                        \
	int main(void);                                                        \
	int main(void)                                                         \
	{                                                                      \
		return check_run(__VA_ARGS__, NULL);                           \
	}

#endif
