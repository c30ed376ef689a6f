using Pml.GraphEvents.Server;

switch (args)
{
    case ["tail", .. var tailArgs]:
        return await TailCommand.RunAsync(tailArgs);
    case ["next", .. var nextArgs]:
        return await NextCommand.RunAsync(nextArgs, Console.Out, Console.Error);
    case ["paths", .. var pathsArgs]:
        return await PathsCommand.RunAsync(pathsArgs, Console.Out, Console.Error);
}

if (ServerCommandLine.TryRun(args, Console.Out, Console.Error) is { } exitCode)
{
    return exitCode;
}

await using var app = ServerApp.Build(args);
await app.RunAsync();
return 0;
