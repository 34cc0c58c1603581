/* test-crypto.c: primitives, with known-answer vectors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "test-crypto"

#include "config.h"

#include <string.h>

#include "latchkey-protocol.h"

static GBytes *
hex_bytes (const char *hex)
{
  gsize len = strlen (hex) / 2;
  guint8 *data = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    data[i] = (g_ascii_xdigit_value (hex[2 * i]) << 4) | g_ascii_xdigit_value (hex[2 * i + 1]);

  return g_bytes_new_take (data, len);
}

/* The Galois/Counter Mode specification (McGrew and Viega), test cases 3
 * and 15: the same plaintext and IV under AES-128 and AES-256, no AAD. */
#define GCM_IV        "cafebabefacedbaddecaf888"
#define GCM_PLAINTEXT "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
                      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"

static const struct {
  const char *key;
  const char *ciphertext_and_tag;
} gcm_vectors[] = {
  { "feffe9928665731c6d6a8f9467308308",
    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985"
    "4d5c2af327cd64a62cf35abd2ba6fab4" },
  { "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
    "b094dac5d93471bdec1a502270e3cc6c" },
};

static void
test_gcm_known_answers (void)
{
  g_autoptr(GBytes) iv = hex_bytes (GCM_IV);
  g_autoptr(GBytes) plaintext = hex_bytes (GCM_PLAINTEXT);

  for (guint i = 0; i < G_N_ELEMENTS (gcm_vectors); i++)
    {
      g_autoptr(GBytes) key = hex_bytes (gcm_vectors[i].key);
      g_autoptr(GBytes) expected_ct = hex_bytes (gcm_vectors[i].ciphertext_and_tag);
      g_autoptr(GBytes) sealed = NULL;
      g_autoptr(GBytes) opened = NULL;
      g_autoptr(GError) error = NULL;
      gsize sealed_len;
      const guint8 *data;

      sealed = lk_aead_seal (key, g_bytes_get_data (iv, NULL),
                             g_bytes_get_data (plaintext, NULL), g_bytes_get_size (plaintext),
                             &error);
      g_assert_no_error (error);

      /* The draft's layout: IV ‖ ciphertext ‖ tag. */
      data = g_bytes_get_data (sealed, &sealed_len);
      g_assert_cmpuint (sealed_len, ==, 12 + g_bytes_get_size (expected_ct));
      g_assert_cmpmem (data, 12, g_bytes_get_data (iv, NULL), 12);
      g_assert_cmpmem (data + 12, sealed_len - 12,
                       g_bytes_get_data (expected_ct, NULL), g_bytes_get_size (expected_ct));

      opened = lk_aead_open (key, data, sealed_len, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (opened, plaintext));
    }
}

static void
test_gcm_rejects (void)
{
  g_autoptr(GBytes) key = hex_bytes (gcm_vectors[1].key);
  g_autoptr(GBytes) other_key = hex_bytes ("00000000000000000000000000000000"
                                           "00000000000000000000000000000000");
  g_autoptr(GBytes) odd_key = hex_bytes ("0001020304");
  g_autoptr(GBytes) sealed = NULL;
  g_autoptr(GBytes) opened = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *copy = NULL;
  gsize len;

  sealed = lk_aead_seal (key, NULL, "hello", 5, &error);
  g_assert_no_error (error);
  g_bytes_get_data (sealed, &len);
  copy = g_memdup2 (g_bytes_get_data (sealed, NULL), len);

  opened = lk_aead_open (other_key, copy, len, &error);
  g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_DECRYPT);
  g_assert_null (opened);
  g_clear_error (&error);

  copy[len - 1] ^= 1;
  opened = lk_aead_open (key, copy, len, &error);
  g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_DECRYPT);
  g_clear_error (&error);

  opened = lk_aead_open (key, copy, 27, &error);
  g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_MALFORMED);
  g_clear_error (&error);

  opened = lk_aead_seal (odd_key, NULL, "x", 1, &error);
  g_assert_error (error, LK_MESSAGE_ERROR, LK_MESSAGE_ERROR_UNSUPPORTED);
  g_assert_null (opened);
}

static void
test_random_iv (void)
{
  g_autoptr(GBytes) key = hex_bytes (gcm_vectors[1].key);
  g_autoptr(GBytes) a = lk_aead_seal (key, NULL, "same", 4, NULL);
  g_autoptr(GBytes) b = lk_aead_seal (key, NULL, "same", 4, NULL);

  /* Two seals of one plaintext must differ: the IV is fresh each time. */
  g_assert_false (g_bytes_equal (a, b));
}

static void
test_sha256 (void)
{
  guint8 digest[LK_SHA256_LENGTH];
  g_autoptr(GBytes) expected = hex_bytes ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  lk_crypto_sha256 ("abc", 3, digest);
  g_assert_cmpmem (digest, sizeof digest, g_bytes_get_data (expected, NULL), 32);
}

static void
test_secret (void)
{
  g_autoptr(GBytes) a = lk_crypto_new_secret (NULL);
  g_autoptr(GBytes) b = lk_crypto_new_secret (NULL);

  g_assert_cmpuint (g_bytes_get_size (a), ==, 32);
  g_assert_false (g_bytes_equal (a, b));
  g_assert_true (lk_crypto_equal (g_bytes_get_data (a, NULL), g_bytes_get_data (a, NULL), 32));
  g_assert_false (lk_crypto_equal (g_bytes_get_data (a, NULL), g_bytes_get_data (b, NULL), 32));
}

static void
test_base64 (void)
{
  static const struct {
    const char *text;
    const char *hex;  /* NULL: must be rejected */
  } cases[] = {
    { "hXlr6aRC7KgJpOLTNZaLsw==", "85796be9a442eca809a4e2d335968bb3" },
    { "hXlr6aRC7KgJpOLTNZaLsw", "85796be9a442eca809a4e2d335968bb3" },
    { "-_-_", "fbffbf" },
    { "+/+/", "fbffbf" },
    { "Zg", "66" },
    { "Zg==", "66" },
    { "Zm8", "666f" },
    { "Zm8=", "666f" },
    { "Zm9v", "666f6f" },
    { "Zg=", NULL },        /* padding that does not complete a quantum */
    { "Z", NULL },          /* one character cannot encode a byte */
    { "Zm9v====", NULL },
    { "+_", NULL },         /* both alphabets */
    { "Zm 9v", NULL },
    { "Zm9v!", NULL },
    { "", NULL },
    { "=", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree guint8 *out = NULL;
      gsize len;

      out = lk_base64_decode_strict (cases[i].text, strlen (cases[i].text), &len);
      if (cases[i].hex == NULL)
        {
          g_assert_null (out);
          continue;
        }

      {
        g_autoptr(GBytes) expected = hex_bytes (cases[i].hex);
        g_autoptr(GBytes) got = NULL;

        g_assert_nonnull (out);
        got = g_bytes_new (out, len);
        g_assert_true (g_bytes_equal (got, expected));
      }
    }

  {
    static const guint8 bytes[] = { 0xfb, 0xff, 0xfb, 0x66 };
    g_autofree char *text = lk_base64url_encode (bytes, sizeof bytes);

    g_assert_cmpstr (text, ==, "-__7Zg");
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/crypto/gcm/known-answers", test_gcm_known_answers);
  g_test_add_func ("/crypto/gcm/rejects", test_gcm_rejects);
  g_test_add_func ("/crypto/gcm/random-iv", test_random_iv);
  g_test_add_func ("/crypto/sha256", test_sha256);
  g_test_add_func ("/crypto/secret", test_secret);
  g_test_add_func ("/crypto/base64", test_base64);

  return g_test_run ();
}
