<?php
/*
 * Regenerates wdt.json and jst.json: what two public PHP SDKs send, run with the clock pinned.
 *
 *   旺店通旗舰版: github.com/westng/wangdian-sdk-php, commit d6d4a2ff56efb4bd2e732bff68a75c7162f91efe
 *                (src/Client/WdtErpClient.php: buildRequest, makeSign, sendRequest)
 *   聚水潭:       github.com/zmoyi/jushuitan, commit 4bbcfa943d0334c90259e634937c22ac272fd389
 *                (src/Api/ApiRequest.php request, src/Api/Common/Util.php getParams/getSign)
 *
 * Usage (php-cli 8.x; the SDKs are checked out outside this repository, never committed):
 *   php crates/conn-erp/tests/vectors/wdt_jst.php WDT_SDK_DIR JST_SDK_DIR crates/conn-erp/tests/vectors
 *
 * The SDKs call `time()` unqualified from their own namespaces, so a namespaced `time()` defined
 * here pins their clock. Their HTTP client (Guzzle) is replaced by a recorder with the same
 * method names, so the script captures the exact URL, form fields and body the SDK would send.
 * Not run in CI: CI only checks the recorded answers (tests/sdk_vectors.rs).
 */

namespace WangDianSDK\Client {
    function time(): int { return \Recorder::$now; }
}

namespace zmoyi\JuShuiTan {
    function time(): int { return \Recorder::$now; }
}

namespace GuzzleHttp {
    /** Stands in for Guzzle: records what the SDK sends and answers a success envelope. */
    class Client {
        public function __construct(array $config = []) { \Recorder::$base = $config['base_uri'] ?? ''; }
        public function post($url, array $options) {
            \Recorder::$sent = ['url' => $url, 'options' => $options];
            return new Response('{"status":0,"data":{"order":[],"total_count":0}}');
        }
        public function postAsync($url, array $options) {
            \Recorder::$sent = ['url' => $url, 'options' => $options];
            return new Promise();
        }
    }
    class Response {
        private $b;
        public function __construct($b) { $this->b = $b; }
        public function getStatusCode() { return 200; }
        public function getBody() { return $this; }
        public function getContents() { return $this->b; }
    }
    class Promise {
        public function then($ok, $err) { return $this; }
        public function wait() { return []; }
    }
}

namespace {
    class Recorder {
        public static $now = 0;
        public static $base = '';
        public static $sent = null;
    }

    if ($argc < 4) {
        fwrite(STDERR, "usage: php wdt_jst.php WDT_SDK_DIR JST_SDK_DIR OUT_DIR\n");
        exit(2);
    }
    [$_, $wdtDir, $jstDir, $outDir] = $argv;

    require $wdtDir . '/src/Exception/WdtErpException.php';
    require $wdtDir . '/src/Model/Pager.php';
    require $wdtDir . '/src/Client/WdtErpClient.php';
    foreach (['JuShuiTan.php', 'Api/Common/ServeHttp.php', 'Api/Common/Util.php', 'Api/Common/Client.php',
              'Api/Common/BaseApi.php', 'Api/ApiRequest.php'] as $f) {
        require $jstDir . '/src/' . $f;
    }

    // ---- 旺店通旗舰版 ----
    $wdtCases = [
        [
            'name' => 'trade_query_page',
            'sid' => 'wdtapi3', 'key' => 'wdt_test', 'secret' => 'aa1:dd',
            'unix_seconds' => 1700000000,
            'method' => 'sales.TradeQuery.queryWithDetail',
            'pager' => [50, 0, true],
            'args' => [['end_time' => '2024-01-31 23:59:59', 'start_time' => '2024-01-01 00:00:00']],
        ],
        [
            'name' => 'raw_trade_push_chinese',
            'sid' => 'demo-sid', 'key' => 'app-key-1', 'secret' => 's3cr3t:pepper:with:colons',
            'unix_seconds' => 1735689600,
            'method' => 'sales.RawTrade.pushSelf',
            'pager' => null,
            'args' => [
                'SHOP-01',
                [['buyer_nick' => '张三', 'receivable' => '19.80', 'tid' => 'T20250101-0001', 'trade_status' => 30]],
                [['goods_no' => 'SKU-1', 'num' => 2, 'oid' => 'T20250101-0001-1', 'price' => '9.90', 'tid' => 'T20250101-0001']],
            ],
        ],
        [
            'name' => 'no_pager_empty_args',
            'sid' => 's', 'key' => 'k', 'secret' => 'x:y',
            'unix_seconds' => 1325347200 + 5,
            'method' => 'system.Core.now',
            'pager' => null,
            'args' => [],
        ],
    ];
    $wdt = ['source' => 'github.com/westng/wangdian-sdk-php@d6d4a2ff56efb4bd2e732bff68a75c7162f91efe src/Client/WdtErpClient.php', 'cases' => []];
    foreach ($wdtCases as $c) {
        Recorder::$now = $c['unix_seconds'];
        Recorder::$sent = null;
        $client = new \WangDianSDK\Client\WdtErpClient($c['sid'], $c['key'], $c['secret'], 'http://127.0.0.1:30000/', false, new \GuzzleHttp\Client());
        $client->setRetryConfig(['enable_retry' => false]);
        // setRetryConfig drops the HTTP client; give the recorder back through the constructor path.
        $rp = new ReflectionProperty($client, 'httpClient');
        $rp->setAccessible(true);
        $rp->setValue($client, new \GuzzleHttp\Client());
        if ($c['pager'] !== null) {
            $client->pageCall($c['method'], new \WangDianSDK\Model\Pager(...$c['pager']), ...$c['args']);
        } else {
            $client->call($c['method'], ...$c['args']);
        }
        $url = Recorder::$sent['url'];
        $parts = parse_url($url);
        $query = [];
        foreach (explode('&', $parts['query']) as $kv) {
            [$k, $v] = explode('=', $kv, 2);
            $query[] = [urldecode($k), urldecode($v)];
        }
        $wdt['cases'][] = [
            'input' => $c,
            'path' => $parts['path'],
            'query' => $query,
            'body' => Recorder::$sent['options']['body'],
            'content_type' => Recorder::$sent['options']['headers']['Content-Type'],
        ];
    }
    file_put_contents($outDir . '/wdt.json', json_encode($wdt, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES) . "\n");

    // ---- 聚水潭 ----
    $jstCases = [
        [
            'name' => 'orders_query',
            'app_key' => 'b0b7d1db226d4216a3d58df9ffa2dde5', 'app_secret' => '99c4cef262f34ca882975a7064de0b87',
            'access_token' => 'b7e3b1e24e174593af8ca5c397e53dad',
            'unix_seconds' => 1700000000,
            'route' => 'open/orders/single/query',
            'biz' => ['page_index' => 1, 'page_size' => 50, 'modified_begin' => '2024-01-01 00:00:00', 'modified_end' => '2024-01-07 23:59:59'],
        ],
        [
            'name' => 'orders_upload_chinese',
            'app_key' => 'ak-2', 'app_secret' => 'sec-2', 'access_token' => 'tok-2',
            'unix_seconds' => 1735689600,
            'route' => 'open/jushuitan/orders/upload',
            'biz' => [[
                'shop_id' => 10001, 'so_id' => 'SO-2025-0001', 'order_date' => '2025-01-01 08:00:00',
                'shop_status' => 'WAIT_SELLER_SEND_GOODS', 'shop_buyer_id' => '买家一', 'receiver_name' => '李四',
                'pay_amount' => 19.8, 'freight' => 0,
                'items' => [['sku_id' => 'SKU-1', 'shop_sku_id' => 'SKU-1', 'name' => '商品', 'qty' => 2, 'amount' => 19.8, 'base_price' => 9.9, 'outer_oi_id' => 'SO-2025-0001-1']],
            ]],
        ],
        [
            'name' => 'orders_query_sorted_keys',
            'app_key' => 'ak123', 'app_secret' => 'jst-secret', 'access_token' => 'tok456',
            'unix_seconds' => 1700000000,
            'route' => 'open/orders/single/query',
            'biz' => ['modified_begin' => '2024-01-01 00:00:00', 'modified_end' => '2024-01-07 23:59:59', 'page_index' => 1, 'page_size' => 50],
        ],
        [
            'name' => 'empty_biz',
            'app_key' => 'k', 'app_secret' => 's', 'access_token' => 't',
            'unix_seconds' => 1,
            'route' => 'open/shops/query',
            'biz' => [],
        ],
    ];
    $jst = ['source' => 'github.com/zmoyi/jushuitan@4bbcfa943d0334c90259e634937c22ac272fd389 src/Api/ApiRequest.php, src/Api/Common/Util.php', 'cases' => []];
    foreach ($jstCases as $c) {
        Recorder::$now = $c['unix_seconds'];
        Recorder::$sent = null;
        $api = new \zmoyi\JuShuiTan\Api\ApiRequest([
            'app_Key' => $c['app_key'], 'app_Secret' => $c['app_secret'],
            'access_token' => $c['access_token'], 'baseUrl' => 'http://127.0.0.1:30001/',
        ]);
        $api->request($c['route'], $c['biz']);
        $form = [];
        foreach (Recorder::$sent['options']['form_params'] as $k => $v) {
            $form[] = [$k, (string)$v];
        }
        $jst['cases'][] = ['input' => $c, 'route' => Recorder::$sent['url'], 'form' => $form];
    }
    file_put_contents($outDir . '/jst.json', json_encode($jst, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES) . "\n");
}
