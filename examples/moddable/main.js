// Publishes a reading every `config.interval` seconds to the Alibaba Cloud IoT Platform over
// HTTPS, through a queue kept in flash: readings taken while the link is down (or the service
// unreachable) are kept, across reboots too, and sent in order once it is back.
//
// Before this module runs, Moddable's network set-up (from manifest_net.json) has joined the
// Wi-Fi network named by `config.ssid` and, if the clock was not set, asked `config.sntp` for
// the time. The simulator uses the computer's network and clock.
import config from "mc/config";
import Resource from "Resource";
import SNTP from "sntp";
import Time from "time";
import Timer from "timer";
import { createClient } from "aliyun-iot-http";
import { queue } from "aliyun-iot-http-queue";
// File-system queue instead of Preference: include manifest-file.json (see manifest.json), then
// import { fileFiles } from "aliyun-iot-http-queue-file";

const CLOCK_SET = Date.UTC(2024, 0, 1); // an earlier clock has not been set

let taken = 0;

/** A reading: replace with your sensor's, e.g. { temperature: ..., humidity: ... }. */
function read() {
	return { n: ++taken, time: Date.now() }; // n: readings since this start
}

/** Calls `then` once the clock is set: TLS checks the certificates' dates, and /auth is signed with the time. */
function whenClockSet(then) {
	if (Date.now() > CLOCK_SET) return then();
	const hosts = [config.sntp || "pool.ntp.org", "0.pool.ntp.org", "1.pool.ntp.org", "2.pool.ntp.org"];
	trace(`asking ${hosts[0]} for the time\n`);
	new SNTP({ host: hosts.shift() }, function (message, value) {
		if (SNTP.time === message) {
			Time.set(value);
			trace(`clock set: ${new Date().toISOString()}\n`);
			then();
		}
		else if (SNTP.error === message) {
			if (hosts.length) return hosts.shift();
			trace(`no time (${value}); trying again in 30 s\n`);
			Timer.set(() => whenClockSet(then), 30000);
		}
	});
}

function start() {
	const productKey = config.productKey, deviceName = config.deviceName;
	if (!productKey || !deviceName || !config.deviceSecret) {
		trace("set productKey, deviceName and deviceSecret in the manifest's config or on the mcconfig command line\n");
		return;
	}
	const topic = config.topic || `/${productKey}/${deviceName}/user/update`;
	const client = createClient({
		productKey, deviceName, deviceSecret: config.deviceSecret,
		region: config.region || undefined, // default cn-shanghai
		endpoint: config.endpoint || undefined, // an enterprise instance's URL; overrides region
		signMethod: "hmacsha256",
		certificate: new Resource(config.certificate), // the service's root CA, DER
	});
	const q = queue(client, {
		// files: fileFiles(config.file.root), // with manifest-file.json
		report(err, m) { // every message that leaves the queue: delivered, or dropped and why
			if (err) trace(`dropped ${err.code} ${m.topic}\n`);
			else trace(`sent ${m.messageId} ${m.topic}\n`);
		},
	});
	const waiting = q.status().messages;
	if (waiting) trace(`${waiting} readings kept from before\n`);
	const interval = Math.max(1, Number(config.interval) || 60) * 1000;
	function sample() {
		const payload = JSON.stringify(read());
		// the callback hears this message's fate; `report` (above) already traces delivery
		const kept = q.publish(topic, payload, (err) => {
			if (!kept) trace(`refused ${err.code} ${payload}\n`); // bad payload, or the medium cannot write
		});
		if (kept) trace(`queued ${payload}\n`);
	}
	sample();
	Timer.repeat(sample, interval);
}

whenClockSet(start);
