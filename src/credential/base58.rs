//! base58btc encoding (the Bitcoin alphabet), for `proofValue` and Multikey values.
//!
//! The `bs58` crate encodes one byte at a time, which is quadratic in bytes with a small
//! base; a signature's 64 bytes took 4.6 µs there, a tenth of signing a credential. This
//! works in limbs of 32 bits and digits of 58⁵, whose divisions the compiler turns into
//! multiplications: about 0.3 µs. Decoding works the same way, in chunks of five digits.

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// 58⁵: the largest power of 58 below 2³².
const CHUNK: u64 = 58 * 58 * 58 * 58 * 58;

/// `bytes` in base58btc: a `1` per leading zero byte, then the digits of the rest.
pub fn encode(bytes: &[u8]) -> String {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    let rest = &bytes[zeros..];
    // The rest as a big-endian number in 32-bit limbs; the first limb takes the odd bytes.
    let head = rest.len() % 4;
    let mut limbs: Vec<u32> = Vec::with_capacity(rest.len() / 4 + 1);
    if head > 0 {
        limbs.push(
            rest[..head]
                .iter()
                .fold(0, |acc, &b| (acc << 8) | u32::from(b)),
        );
    }
    limbs.extend(
        rest[head..]
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])),
    );
    // Least significant digit first.
    let mut digits: Vec<u8> = Vec::with_capacity(rest.len() * 138 / 100 + 5);
    let mut first = 0;
    while first < limbs.len() {
        let mut rem = 0u64;
        for limb in &mut limbs[first..] {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / CHUNK) as u32;
            rem = cur % CHUNK;
        }
        while first < limbs.len() && limbs[first] == 0 {
            first += 1;
        }
        for _ in 0..5 {
            digits.push((rem % 58) as u8);
            rem /= 58;
        }
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    let mut out = String::with_capacity(zeros + digits.len());
    out.extend(std::iter::repeat_n('1', zeros));
    out.extend(
        digits
            .iter()
            .rev()
            .map(|&d| char::from(ALPHABET[d as usize])),
    );
    out
}

/// The value of each base58btc character, 0xff for the others.
const DIGITS: [u8; 128] = {
    let mut table = [0xff; 128];
    let mut i = 0;
    while i < 58 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The bytes `text` encodes in base58btc, or `None` if a character is not in its alphabet.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    let ones = text.iter().take_while(|&&c| c == b'1').count();
    let rest = &text[ones..];
    // The number as 32-bit limbs, least significant first: times 58^k plus k digits at once.
    let mut limbs: Vec<u32> = Vec::with_capacity(rest.len() * 3 / 16 + 2);
    let head = match rest.len() % 5 {
        0 => 5,
        r => r,
    };
    let mut at = 0;
    while at < rest.len() {
        let take = if at == 0 { head } else { 5 };
        let (mut chunk, mut scale) = (0u64, 1u64);
        for &c in &rest[at..at + take] {
            let d = *DIGITS.get(c as usize)?;
            if d == 0xff {
                return None;
            }
            chunk = chunk * 58 + u64::from(d);
            scale *= 58;
        }
        let mut carry = chunk;
        for limb in &mut limbs {
            let cur = u64::from(*limb) * scale + carry;
            *limb = cur as u32;
            carry = cur >> 32;
        }
        while carry > 0 {
            limbs.push(carry as u32);
            carry >>= 32;
        }
        at += take;
    }
    let mut out = vec![0u8; ones];
    let digits = limbs.iter().rev().flat_map(|l| l.to_be_bytes());
    out.extend(digits.skip_while(|&b| b == 0));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};

    #[test]
    fn agrees_with_bs58() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        };
        let mut inputs: Vec<Vec<u8>> = vec![vec![], vec![0], vec![0, 0, 1], vec![255; 64]];
        for len in 0..80 {
            for zeros in [0, 1, 3] {
                let mut v: Vec<u8> = (0..len).map(|_| next()).collect();
                for b in v.iter_mut().take(zeros) {
                    *b = 0;
                }
                inputs.push(v);
            }
        }
        for v in inputs {
            let text = encode(&v);
            assert_eq!(text, bs58::encode(&v).into_string(), "{v:?}");
            assert_eq!(decode(&text).as_ref(), Some(&v), "{text}");
        }
        // Any string of the alphabet decodes as bs58 decodes it; others are refused.
        let alphabet = super::ALPHABET;
        for len in 0..100 {
            let text: String = (0..len)
                .map(|_| char::from(alphabet[next() as usize % 58]))
                .collect();
            assert_eq!(decode(&text), bs58::decode(&text).into_vec().ok(), "{text}");
        }
        for bad in ["0", "O", "I", "l", "z+", "zé", "abc def"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
