// SPDX-License-Identifier: GPL-2.0
//
// The test function of selftests/node: a plain Node.js handler that AWS's
// runtime interface client (aws-lambda-ric) runs unmodified.  At init it
// builds state (INIT_MB MiB, default 32, and a token) and draws randomness
// the way functions do; the event's "action" picks what it answers:
//   (none)   the init's state and the environment and context it runs in
//   throw    throws: the runtime's error shape
//   random   what a clone shares with its siblings: randomness from the
//            kernel, from OpenSSL's DRBG (crypto), from V8 (Math.random),
//            ids drawn at init, and the same done the documented way
//            ("remedy": on a new VM generation, draw again from the kernel)
import crypto from 'node:crypto';
import fs from 'node:fs';

const GENERATION = '/run/thaw/generation';

function readGeneration() {
	try {
		return fs.readFileSync(GENERATION, 'utf8').trim();
	} catch {
		return 'none';
	}
}

// The kernel's CRNG, which every clone has reseeded (VMGenID).
function kernelBytes(n) {
	const buf = Buffer.alloc(n);
	const fd = fs.openSync('/dev/urandom', 'r');
	try {
		fs.readSync(fd, buf, 0, n, null);
	} finally {
		fs.closeSync(fd);
	}
	return buf;
}

// --- init: what a snapshot keeps.
const t0 = Date.now();
const initMb = Number(process.env.INIT_MB ?? 32);
const state = Buffer.alloc(initMb * 1024 * 1024);
for (let off = 0; off < state.length; off += 65536)
	crypto.randomFillSync(state, off, Math.min(65536, state.length - off));
const token = crypto.createHash('sha256').update(state).digest('hex').slice(0, 16);
const initAt = Date.now();
const initMs = initAt - t0;
// Ids made at init, as functions make a client id or a connection id.
const initUuid = crypto.randomUUID();
const initMath = Math.random();
// The kernel makes boot_id on its first read: here, before the snapshot.
fs.readFileSync('/proc/sys/kernel/random/boot_id');

// The remedy: remember the generation, and when it changes, draw what
// must be unique again from the kernel.
let seenGeneration = readGeneration();
let instanceId = kernelBytes(16).toString('hex');
let restores = 0;

function onNewGeneration(g) {
	seenGeneration = g;
	restores++;
	instanceId = kernelBytes(16).toString('hex');
}

function sources() {
	return {
		kernel: kernelBytes(8).toString('hex'),
		crypto: crypto.randomBytes(8).toString('hex'),
		math: Math.random(),
		uuid: crypto.randomUUID(),
		init_uuid: initUuid,
		init_math: initMath,
		pid: process.pid,
		boot_id: fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
		log_stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
	};
}

export const handler = async (event, context) => {
	const g = readGeneration();
	if (g !== seenGeneration)
		onNewGeneration(g);
	const action = event?.action;
	if (action === 'throw')
		throw new TypeError('thrown on purpose');
	const common = { token, init_at: initAt, init_ms: initMs, init_mb: initMb, generation: g };
	if (action === 'random')
		return {
			...common, ...sources(),
			remedy_instance_id: instanceId,
			remedy_uuid: kernelUuid(),
			remedy_random: kernelBytes(6).readUIntBE(0, 6) / 2 ** 48,
			restores,
		};
	// Flat, so that a shell test can read it (function-vm.sh json_get).
	const out = {
		...common,
		request_id: context.awsRequestId,
		arn: context.invokedFunctionArn,
		function_name: context.functionName,
		memory: context.memoryLimitInMB,
		log_group: context.logGroupName,
		log_stream: context.logStreamName,
	};
	for (const k of ['AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_LAMBDA_LOG_GROUP_NAME',
		'AWS_EXECUTION_ENV', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_REGION',
		'TZ', 'LANG', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY',
		'AWS_SESSION_TOKEN', '_X_AMZN_TRACE_ID', 'CUSTOM'])
		out[k] = process.env[k] ?? '';
	return out;
};

// A version-4 UUID from the kernel's bytes, not from the runtime's DRBG.
function kernelUuid() {
	const b = kernelBytes(16);
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	const h = b.toString('hex');
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
