"""The policy: editions, the rule book, operators and conditions, the compiler, the durable_rules driver,
explanation and lint."""
