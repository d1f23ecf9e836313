// Imported first by bench/run.ts: the kit's logger reads LOG_LEVEL when it is loaded, and the bench
// process (load generators, the KafkaSource-equivalent dispatcher) must not log a line per request.
// The functions under test run in their own processes with the environment their containers get.
process.env.LOG_LEVEL = process.env.BENCH_PROCESS_LOG_LEVEL ?? 'silent';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
