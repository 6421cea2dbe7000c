// The AWS SDK for JavaScript v3 Kinesis client (default handler: HTTP/2, also to http://) against
// cloudlet: each modeled error must surface as its own class with name, status and fault.
// Resolves @aws-sdk/client-kinesis from tests/node/node_modules. Prints one JSON line.
import { createRequire } from "module";
import { fileURLToPath } from "url";
import path from "path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "node", "node_modules") + "/");
const K = require("@aws-sdk/client-kinesis");

const [endpoint, account, stream] = process.argv.slice(2);
const client = new K.KinesisClient({
  endpoint, region: "us-east-1", maxAttempts: 1,
  credentials: { accessKeyId: account, secretAccessKey: "test" },
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = {};

async function attempt(label, command) {
  try {
    await client.send(command);
    out[label] = "ok";
  } catch (e) {
    out[label] = { name: e.name, status: e.$metadata?.httpStatusCode, fault: e.$fault, message: e.message,
                   modeled: e instanceof K.KinesisServiceException && e.constructor.name === e.name };
  }
}

await client.send(new K.CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
await K.waitUntilStreamExists({ client, maxWaitTime: 30, minDelay: 1 }, { StreamName: stream });
await attempt("missing", new K.DescribeStreamSummaryCommand({ StreamName: `${stream}-missing` }));
await attempt("exists", new K.CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
await attempt("iterator", new K.GetRecordsCommand({ ShardIterator: "AAAA" }));
await attempt("validation", new K.IncreaseStreamRetentionPeriodCommand({ StreamName: stream, RetentionPeriodHours: 9000 }));
const put = await client.send(new K.PutRecordCommand({ StreamName: stream, PartitionKey: "p",
                                                       Data: new Uint8Array([0, 1, 2, 255]) }));
const it = await client.send(new K.GetShardIteratorCommand({
  StreamName: stream, ShardId: put.ShardId, ShardIteratorType: "AT_TIMESTAMP", Timestamp: new Date(Date.now() - 60000),
}));
const got = await client.send(new K.GetRecordsCommand({ ShardIterator: it.ShardIterator }));
out.data = got.Records.map((r) => Buffer.from(r.Data).toString("hex"));
out.arrivalIsDate = got.Records.every((r) => r.ApproximateArrivalTimestamp instanceof Date);
out.millisBehind = got.MillisBehindLatest;
await client.send(new K.DeleteStreamCommand({ StreamName: stream }));
console.log(JSON.stringify(out));
client.destroy();
