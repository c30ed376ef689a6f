using Pml.GraphEvents;
using Pml.GraphEvents.Server;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.AddGraphEvents(builder.Configuration);
builder.Services.AddHostedService<DemoPublisher>();

var app = builder.Build();
app.MapGet("/healthz", () => Results.Text("ok"));
app.MapGet("/stats", (IGraphEventBroadcaster broadcaster) => Results.Json(broadcaster.GetStatistics()));
app.Run();
