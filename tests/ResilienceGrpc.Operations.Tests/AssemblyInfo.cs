using Xunit;

// These tests start servers, processes and redis-server, kill and restart them, and bound
// waits; run them one at a time so they do not starve each other of the machine's two cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
