# The `postgres` ctest fixture: a throw-away PostgreSQL cluster in the build tree, started
# before the tests that need it and stopped after them (tests/pg/cluster).
set(APM_PG_DIR ${CMAKE_BINARY_DIR}/pg)
set(APM_PG_URL_FILE ${APM_PG_DIR}/url)
add_test(NAME postgres_start COMMAND ${PROJECT_SOURCE_DIR}/tests/pg/cluster start ${APM_PG_DIR})
set_tests_properties(postgres_start PROPERTIES FIXTURES_SETUP postgres TIMEOUT 60)
add_test(NAME postgres_stop COMMAND ${PROJECT_SOURCE_DIR}/tests/pg/cluster stop ${APM_PG_DIR})
set_tests_properties(postgres_stop PROPERTIES FIXTURES_CLEANUP postgres TIMEOUT 60)
