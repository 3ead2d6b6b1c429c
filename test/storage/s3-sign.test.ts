/**
 * SigV4 against the worked examples of the AWS documentation ("Signature Calculations for the
 * Authorization Header", examplebucket, 2013-05-24): the signatures below are AWS's own.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { canonicalQuery, EMPTY_SHA256, signRequest, uriEncode } from '../../src/storage/s3-sign.js'

const creds = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
  date: new Date('2013-05-24T00:00:00Z'),
}
const sig = (h: Record<string, string>) => /Signature=([0-9a-f]{64})$/.exec(h.authorization!)?.[1]

describe('SigV4 signing (AWS documentation examples)', () => {
  test('GET Object with a Range header matches AWS signature f0e8bdb8…', () => {
    const h = signRequest({
      ...creds,
      method: 'GET',
      path: '/test.txt',
      headers: { host: 'examplebucket.s3.amazonaws.com', range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY_SHA256 },
    })
    assert.equal(sig(h), 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41')
    assert.equal(h['x-amz-date'], '20130524T000000Z')
    assert.match(h.authorization!, /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/20130524\/us-east-1\/s3\/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, /)
  })

  test('PUT Object with a payload hash and extra headers matches AWS signature 98ad7217…', () => {
    const h = signRequest({
      ...creds,
      method: 'PUT',
      path: '/test$file.text',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        date: 'Fri, 24 May 2013 00:00:00 GMT',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
      },
    })
    assert.equal(sig(h), '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd')
  })

  test('GET Bucket lifecycle (a query parameter without value) matches AWS signature fea454ca…', () => {
    const h = signRequest({
      ...creds,
      method: 'GET',
      path: '/',
      query: { lifecycle: '' },
      headers: { host: 'examplebucket.s3.amazonaws.com', 'x-amz-content-sha256': EMPTY_SHA256 },
    })
    assert.equal(sig(h), 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543')
  })

  test('GET Bucket list with sorted query parameters matches AWS signature 34b48302…', () => {
    const h = signRequest({
      ...creds,
      method: 'GET',
      path: '/',
      query: { 'max-keys': '2', prefix: 'J' },
      headers: { host: 'examplebucket.s3.amazonaws.com', 'x-amz-content-sha256': EMPTY_SHA256 },
    })
    assert.equal(sig(h), '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7')
  })

  test('encoding keeps unreserved characters and slashes in paths only', () => {
    assert.equal(uriEncode('a b/c~d$é', true), 'a%20b/c~d%24%C3%A9')
    assert.equal(uriEncode('a/b'), 'a%2Fb')
    assert.equal(canonicalQuery({ uploadId: 'x y', partNumber: '2' }), 'partNumber=2&uploadId=x%20y')
  })
})
