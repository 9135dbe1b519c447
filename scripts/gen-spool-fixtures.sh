#!/usr/bin/env bash
# Regenerates the spool record fixtures in test/fixtures/spool/ with glibc iconv:
#   mail.txt            the mail as ISO-8859-1 text lines (LF)            -> format 'text'
#   mail.<cp>.nl        the same in EBCDIC, records ending in NL X'15'     -> format 'nl'
#   mail.<cp>.fb80      EBCDIC fixed 80-byte records, lines longer than 80 -> format 'fixed'
#                       split into 79 bytes + '<' continuations, blank-padded
#   mail.<cp>.vb        EBCDIC variable records, 4-byte RDW (length incl.  -> format 'variable'
#                       RDW, big-endian, then X'0000') before each line
# for cp in IBM1047 and IBM273 (glibc names) ('@' is X'7C' in one, X'B5' in the other).
# All must decode to the same records (src/spool/records.test.ts).
# Usage: bash scripts/gen-spool-fixtures.sh [OUTDIR]   (default test/fixtures/spool; commit it)
# records.test.ts runs it into a temporary OUTDIR and compares with the committed files.
set -euo pipefail
export LC_ALL=C
mkdir -p "${1:-$(dirname "$0")/../test/fixtures/spool}"
cd "${1:-$(dirname "$0")/../test/fixtures/spool}"

# The mail (UTF-8 here, stored as ISO-8859-1). No line is exactly 80 bytes ending in '<'.
iconv -f UTF-8 -t ISO-8859-1 > mail.txt <<'MAIL'
HELO MVSHOST
MAIL FROM:<payroll@corp.example>
RCPT TO:<alice@corp.example>
RCPT TO:<bob.o'neil@corp.example>
DATA
From: Payroll Office <payroll@corp.example>
To: Alice <alice@corp.example>, Bob <bob.o'neil@corp.example>
Subject: Daily report for Zürich & Malmö (see #42, 100% done)
X-Long-Header: token000;token001;token002;token003;token004;token005;token006;token007;token008;token009;token010;token011;token012;token013;token014;token015;token016;token017;token018;token019;token020;token021;token022;token023;token024;token025;token026;token027;token028;token029;

Grüße aus Köln: ½ price, ©2024, naïve café, ß, Ø, æ, ¿qué?  
A line with trailing blanks and a	tab inside     
..a dot-stuffed body line
Comparisons: a < b, c > d, { [ ] } | ~ ^ ` \ ! $ @ # " ' ; :
This line ends with a less-than sign but is short <
xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy
zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz
wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww<v
The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog.
qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq   rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr
pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp     
uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu<

Totals: 1.234,56 EUR; 789.00 USD; 42 items
.
MAIL FROM:<ops@corp.example>
RCPT TO:<carol@other.example>
DATA
Subject: second message

short body
.
QUIT
MAIL

for cp in IBM1047 IBM273; do
  # glibc writes LF as X'25'; z/OS UNIX text ends lines with NL X'15'. No data byte is X'25'
  # (the mail has no other LF), so translating every X'25' to X'15' is exact.
  iconv -f ISO-8859-1 -t "$cp" mail.txt | tr '\045' '\025' > "mail.$cp.nl"

  : > "mail.$cp.fb80"
  : > "mail.$cp.vb"
  while IFS= read -r line; do
    # fixed 80: split into 79 bytes + '<' while the rest would not fit (or would itself look
    # like a continuation), then pad the last piece with blanks.
    rest=$line
    while (( ${#rest} > 80 )) || { (( ${#rest} == 80 )) && [[ $rest == *'<' ]]; }; do
      printf '%s<' "${rest:0:79}" | iconv -f ISO-8859-1 -t "$cp" >> "mail.$cp.fb80"
      rest=${rest:79}
    done
    printf '%-80s' "$rest" | iconv -f ISO-8859-1 -t "$cp" >> "mail.$cp.fb80"

    # variable: RDW = length of data + 4, big-endian, then two zero bytes.
    n=$(( $(printf '%s' "$line" | iconv -f ISO-8859-1 -t "$cp" | wc -c) + 4 ))
    printf "\\$(printf '%03o' $(( n >> 8 )))\\$(printf '%03o' $(( n & 255 )))\\000\\000" >> "mail.$cp.vb"
    printf '%s' "$line" | iconv -f ISO-8859-1 -t "$cp" >> "mail.$cp.vb"
  done < mail.txt
done
