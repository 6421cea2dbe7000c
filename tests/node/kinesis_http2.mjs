// The AWS SDK for JavaScript v3 Kinesis client with its default request handler
// (HTTP/2, also to an http:// endpoint). Prints one JSON line with what it saw.
import {
  KinesisClient, CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand,
  ListShardsCommand, GetShardIteratorCommand, GetRecordsCommand,
} from "@aws-sdk/client-kinesis";

const [endpoint, stream] = process.argv.slice(2);
const client = new KinesisClient({
  endpoint, region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
for (let i = 0; i < 100; i++) {
  const s = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
  if (s.StreamDescriptionSummary.StreamStatus === "ACTIVE") break;
  await sleep(100);
}
const put = await client.send(new PutRecordsCommand({
  StreamName: stream,
  Records: [0, 1, 2].map((i) => ({ Data: new TextEncoder().encode(`record-${i}`), PartitionKey: `pk-${i}` })),
}));
const shards = await client.send(new ListShardsCommand({ StreamName: stream }));
const it = await client.send(new GetShardIteratorCommand({
  StreamName: stream, ShardId: shards.Shards[0].ShardId, ShardIteratorType: "TRIM_HORIZON",
}));
const got = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
console.log(JSON.stringify({
  failed: put.FailedRecordCount,
  data: got.Records.map((r) => new TextDecoder().decode(r.Data)),
}));
client.destroy();
