// The official JS SDK's image request, unchanged, against the mock (tests/sdk/test_sdk_js.py):
// node image.mjs WS_URL MODEL OUTPUT_TYPE OUTPUT_FORMAT prints the images it returned as JSON.
import { Runware } from "@runware/sdk-js";

const [url, model, outputType, outputFormat] = process.argv.slice(2);
const runware = new Runware({ apiKey: "sdk-key", url, shouldReconnect: false, timeoutDuration: 20000 });
await runware.ensureConnection();
const images = await runware.requestImages({
  positivePrompt: "a lighthouse at dusk",
  model,
  width: 1024,
  height: 1024,
  numberResults: 3,
  outputType,
  outputFormat,
});
await runware.disconnect();
// exit once the (large: base64 images) output is flushed; the SDK may leave timers behind
process.stdout.write(JSON.stringify(images) + "\n", () => process.exit(0));
