/* channel-vectors.h: computed with Python cryptography (OpenSSL), not with Latchkey:
 *   AESGCM(key).encrypt(iv, KAT_PLAINTEXT, None), key = bytes(range(n)), iv = a0..ab
 */

#define KAT_DATA_256 \
  "oKGio6SlpqeoqaqrnToaQjemY8tAX6W3bh2pqhHALnH+2ycYsmlD6BrZHGL8FzKLx00hVCX9" \
  "cKFmFNeWLH4oak7yeREvKm4w0FK/y5bd5gxV1pe0m4madq307t6iZNmJ9POqTswIErjc+yT4" \
  "7etT4mfL4e/3vW8196rXChIyAJm8DaoMAva6xdB4w3yhIJ1H4yC0OgdpnbsmLPXiu+nOU5z8" \
  "2P+YvMiQwaRRZbN1fdTESHomrihZRxm7xYgYSN+iMkqMTefsElwu0HA7URR26wm/0pmaPDSg" \
  "OwYelyKbgZ5WDK3Lqag/gC6y+F1KEHNg+CyYfoH9Ax4DSgE+SvyDfsgTMcYq7OwrJHJp01Z+" \
  "iMaujeOhJ+IWxEVG/tq/eLNgpMmSf02rP8qnaw=="

#define KAT_DATA_128 \
  "oKGio6Slpqeoqaqr0aRe1AzkUn6oQpdkL3XZFDKCVGnve1jbC3cU9Sf/5su0wjBFZ4WeBAW/" \
  "lq3AtV2/1zEiax+j9YLsQuukkUc+BtNQ0LEOBeKWv3jq3HsTZ+Qj1igDTtO4lTNmBRrHGWUs" \
  "ZIQGVVUGsMhrB9kQJ8OhjQf6Nb1KSVzl/r9qyKgx/EHm0I7ARAXgD5yE0KesS89xrV/ziF2D" \
  "ecqEehK9FctG6qCDsrPEQSJErS3NLCVgJmmPKkyEX658P+dfgemiKKfaH1w7qCd/aXzzLF4Y" \
  "WK7454Zdj4dCW2R+ANI469zfbS46fiYMnz6heb5EVGkyJRuDs+FTdC7sB3tVfNp8NneXlDUF" \
  "OQnxpYYrGxleAea6LoAXrMG1tcxZv5pw4UyagQ=="

