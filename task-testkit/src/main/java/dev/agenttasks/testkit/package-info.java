/** Test support for agent-tasks: store contract suites, an engine end-to-end suite, a scripted runner and a recording subscriber. */
package dev.agenttasks.testkit;
