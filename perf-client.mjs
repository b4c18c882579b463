import { fork } from 'node:child_process';
const mode = process.argv[2]; const port = 18990 + Math.floor(Math.random()*9);
const child = fork('./perf-server.mjs', [mode, String(port)], { execArgv: process.argv[3] ? ['--cpu-prof', '--cpu-prof-dir=/tmp/perf'] : [] });
await new Promise(r => setTimeout(r, 1500));
const body = JSON.stringify({ jsonrpc:'2.0', id:1, method:'tools/call', params:{ name:'add_numbers', arguments:{a:2,b:3} } });
const headers = { 'content-type':'application/json', accept:'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };
async function one() { const r = await fetch(`http://127.0.0.1:${port}/mcp`, { method:'POST', headers, body }); const t = await r.text(); if (r.status!==200) throw new Error(r.status+t); }
for (let i=0;i<300;i++) await one();
const cpu = () => new Promise(r => { child.once('message', r); child.send('cpu'); });
const before = await cpu(); const N = 3000; const t0 = performance.now();
let next = 0; await Promise.all(Array.from({length:16}, async () => { while (next++ < N) await one(); }));
const wall = performance.now()-t0; const after = await cpu();
console.log(mode, 'server CPU µs/req', (((after.user-before.user)+(after.system-before.system))/N).toFixed(0), 'req/s', (N/wall*1000).toFixed(0));
child.send('exit');
