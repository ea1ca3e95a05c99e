/**
 * A real PostgreSQL for tests, without Docker and without a manual step: {@link
 * dev.agenttasks.testkit.postgres.PostgresExtension} starts an embedded server once per JVM (or uses the external
 * one named by {@value dev.agenttasks.testkit.postgres.PostgresExtension#URL_ENV}) and fails the tests with a
 * clear message when neither can be had; it never skips them.
 */
package dev.agenttasks.testkit.postgres;
