using Pml.GraphEvents.Server;

if (args is ["tail", .. var tailArgs])
{
    return await TailCommand.RunAsync(tailArgs);
}

await using var app = ServerApp.Build(args);
await app.RunAsync();
return 0;
