import zlib from 'node:zlib';
import sharp from 'sharp';
const buf = await sharp('/tmp/par.png').raw().toBuffer();
for (let r=0;r<2;r++){
 for (const opts of [{level:1,strategy:3},{level:1,strategy:3,memLevel:9},{level:1,strategy:3,memLevel:9,windowBits:9},{level:1,strategy:4},{level:1,strategy:3,memLevel:4}]) {
 const c=process.cpuUsage(); const out = zlib.deflateRawSync(buf,opts); const cu=process.cpuUsage(c); console.log(JSON.stringify(opts), ((cu.user+cu.system)/1000).toFixed(0), out.length);
 }
}
