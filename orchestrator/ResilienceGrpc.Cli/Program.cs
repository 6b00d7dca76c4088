return await ResilienceGrpc.Cli.CommandLineApp.RunAsync(args, Console.Out, Console.Error);
