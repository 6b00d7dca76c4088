using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(ResilienceGrpc.Benchmarks.RegressionBenchmarks).Assembly).Run(args);
