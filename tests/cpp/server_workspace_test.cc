// The workspace side over HTTP: the Unity Catalog table in the real API's shape, the OAuth
// client-credentials flow, and the bearer tokens the gRPC side then demands.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/server.h"
#include "table/ddl_parser.h"
#include "zbtest_child.h"
#include "zbtest_raw_stream.h"
#include "zbtest_serve.h"
#include "zbtest_temp_dir.h"

namespace {

using nlohmann::json;
using zbtest::RawStream;
using zerobus::server::Server;
using zerobus::server::ServerOptions;
using namespace std::chrono_literals;

constexpr char kTable[] = "main.default.events";
constexpr char kSchema[] =
    "main.default.events (id BIGINT NOT NULL COMMENT 'key', name VARCHAR(8), "
    "amount DECIMAL(10,2), tags ARRAY<STRING>, attrs MAP<STRING,INT>, "
    "loc STRUCT<lat: DOUBLE NOT NULL, lon: DOUBLE>);"
    "main.default.other (x INT)";

// The grants of authorization_details as the official client sends them for `table` now:
// USE CATALOG, USE SCHEMA, and SELECT and MODIFY on the table for `operations`.
json Grants(const std::string &table, const json &operations = json::array({"zerobuswrite"})) {
  const std::string catalog = table.substr(0, table.find('.'));
  const std::string schema = table.substr(0, table.rfind('.'));
  json table_grant = {{"type", "unity_catalog_privileges"},
                      {"privileges", json::array({"SELECT", "MODIFY"})},
                      {"object_type", "TABLE"},
                      {"object_full_path", table}};
  if (!operations.is_null()) table_grant["operations"] = operations;
  return json::array({{{"type", "unity_catalog_privileges"},
                       {"privileges", json::array({"USE CATALOG"})},
                       {"object_type", "CATALOG"},
                       {"object_full_path", catalog}},
                      {{"type", "unity_catalog_privileges"},
                       {"privileges", json::array({"USE SCHEMA"})},
                       {"object_type", "SCHEMA"},
                       {"object_full_path", schema}},
                      table_grant});
}

std::string Details(const std::string &table) {
  return Grants(table).dump();
}

httplib::Params TokenForm(const std::string &table) {
  return {{"grant_type", "client_credentials"},
          {"scope", "all-apis"},
          {"resource", "api://databricks/workspaces/127/zerobusDirectWriteApi"},
          {"authorization_details", Details(table)}};
}

class WorkspaceTest : public ::testing::Test {
 protected:
  void Start(bool auth) {
    ServerOptions options;
    std::string error;
    ASSERT_TRUE(zerobus::table::ParseSchemaText(kSchema, &options.tables, &error)) << error;
    options.accept_undeclared_tables = false;
    options.http_port = 0;
    options.admin_port = 0;
    if (auth) options.auth = zerobus::server::ClientCredentials{"client", "s3cret"};
    server_ = Server::Start(std::move(options), &error);
    ASSERT_NE(server_, nullptr) << error;
    http_ = std::make_unique<httplib::Client>("127.0.0.1", server_->http_port());
    http_->set_read_timeout(5, 0);
  }

  // POSTs a token request; the reply's status and body.
  std::pair<int, json> RequestToken(const httplib::Params &form, const std::string &id = "client",
                                    const std::string &secret = "s3cret") {
    httplib::Client client("127.0.0.1", server_->http_port());
    client.set_basic_auth(id.c_str(), secret.c_str());
    auto response = client.Post("/oidc/v1/token", form);
    if (!response) return {0, json()};
    return {response->status, json::parse(response->body, nullptr, false)};
  }

  grpc::Status OpenWith(const std::string &authorization, const std::string &table = kTable) {
    std::vector<std::pair<std::string, std::string>> metadata;
    if (!authorization.empty()) metadata.emplace_back("authorization", authorization);
    RawStream stream(zbtest::LoopbackChannel(server_->port()), 10s, metadata);
    if (stream.Open(zbtest::CreateJson(table)).empty()) return stream.Finish();
    stream.WritesDone();
    return stream.Finish();
  }

  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(WorkspaceTest, TheTableApiAnswersInTheUnityCatalogShape) {
  Start(false);
  auto response = http_->Get("/api/2.1/unity-catalog/tables/main.default.events");
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200) << response->body;
  const json table = json::parse(response->body);
  EXPECT_EQ(table["full_name"], kTable);
  EXPECT_EQ(table["catalog_name"], "main");
  EXPECT_EQ(table["schema_name"], "default");
  EXPECT_EQ(table["name"], "events");
  EXPECT_EQ(table["table_type"], "MANAGED");
  EXPECT_EQ(table["data_source_format"], "DELTA");
  const json &columns = table["columns"];
  ASSERT_EQ(columns.size(), 6u);
  EXPECT_EQ(columns[0], json::parse(R"({"name":"id","position":0,"nullable":false,
      "type_name":"LONG","type_text":"bigint","comment":"key","type_precision":0,"type_scale":0,
      "type_json":"{\"metadata\":{\"comment\":\"key\"},\"name\":\"id\",\"nullable\":false,\"type\":\"long\"}"})"));
  EXPECT_EQ(json::parse(columns[1]["type_json"].get<std::string>()),
            json::parse(R"json({"name":"name","type":"string","nullable":true,
                "metadata":{"__CHAR_VARCHAR_TYPE_STRING":"varchar(8)"}})json"));
  EXPECT_EQ(columns[2]["type_name"], "DECIMAL");
  EXPECT_EQ(columns[2]["type_precision"], 10);
  EXPECT_EQ(columns[2]["type_scale"], 2);
  EXPECT_EQ(json::parse(columns[2]["type_json"].get<std::string>())["type"], "decimal(10,2)");
  EXPECT_EQ(json::parse(columns[3]["type_json"].get<std::string>())["type"],
            json::parse(R"({"type":"array","elementType":"string","containsNull":true})"));
  EXPECT_EQ(json::parse(columns[4]["type_json"].get<std::string>())["type"],
            json::parse(R"({"type":"map","keyType":"string","valueType":"integer",
                "valueContainsNull":true})"));
  EXPECT_EQ(columns[5]["type_text"], "struct<lat:double,lon:double>");
  EXPECT_EQ(json::parse(columns[5]["type_json"].get<std::string>())["type"],
            json::parse(R"({"type":"struct","fields":[
                {"name":"lat","type":"double","nullable":false,"metadata":{}},
                {"name":"lon","type":"double","nullable":true,"metadata":{}}]})"));

  auto missing = http_->Get("/api/2.1/unity-catalog/tables/main.default.nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(json::parse(missing->body)["error_code"], "TABLE_DOES_NOT_EXIST");
}

TEST_F(WorkspaceTest, TheTokenEndpointRunsTheClientCredentialsFlow) {
  Start(true);
  auto [status, body] = RequestToken(TokenForm(kTable));
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 3600);
  EXPECT_FALSE(body["access_token"].get<std::string>().empty());
}

TEST_F(WorkspaceTest, TheTokenEndpointRefusesBadRequests) {
  Start(true);
  EXPECT_EQ(RequestToken(TokenForm(kTable), "client", "wrong").first, 401);
  EXPECT_EQ(RequestToken(TokenForm(kTable), "someone", "s3cret").first, 401);
  httplib::Client anonymous("127.0.0.1", server_->http_port());
  auto no_auth = anonymous.Post("/oidc/v1/token", TokenForm(kTable));
  ASSERT_TRUE(no_auth);
  EXPECT_EQ(no_auth->status, 401);

  httplib::Params form = TokenForm(kTable);
  form.erase("grant_type");
  form.emplace("grant_type", "password");
  EXPECT_EQ(RequestToken(form).second["error"], "unsupported_grant_type");
  form = TokenForm(kTable);
  form.erase("scope");
  EXPECT_EQ(RequestToken(form).second["error"], "invalid_scope");
  form = TokenForm(kTable);
  form.erase("resource");
  form.emplace("resource", "api://somewhere/else");
  EXPECT_EQ(RequestToken(form).first, 400);
  form = TokenForm(kTable);
  form.erase("authorization_details");
  form.emplace("authorization_details", R"([{"type":"unity_catalog_privileges",
      "privileges":["SELECT"],"object_type":"TABLE","object_full_path":"main.default.events"}])");
  EXPECT_EQ(RequestToken(form).first, 400);
  auto [status, body] = RequestToken(TokenForm("main.default.missing"));
  EXPECT_EQ(status, 401);
  EXPECT_NE(body["error_description"].get<std::string>().find("not authorized"), std::string::npos);
}

// The shape of the request before the service wanted the operation (protocol.md §2.1), and
// other ways of getting it almost right: each is refused with an OAuth error that says why.
TEST_F(WorkspaceTest, TheTokenEndpointRefusesTheShapeClientsSentBefore) {
  Start(true);
  auto with_details = [](const json &details) {
    httplib::Params form = TokenForm(kTable);
    form.erase("authorization_details");
    form.emplace("authorization_details", details.dump());
    return form;
  };
  auto expect_refused = [&](const httplib::Params &form, const std::string &said) {
    SCOPED_TRACE(said);
    auto [status, body] = RequestToken(form);
    EXPECT_EQ(status, 400) << body;
    EXPECT_EQ(body.value("error", ""), "invalid_request") << body;
    const std::string description = body.value("error_description", "");
    EXPECT_NE(description.find(said), std::string::npos) << description;
  };
  // As libzerobus 0.1.0 and the official SDKs of March 2026 sent it.
  expect_refused(with_details(Grants(kTable, json())), R"("operations": ["zerobuswrite"])");
  expect_refused(with_details(Grants(kTable, json::array({"zerobusread"}))), "zerobuswrite");
  expect_refused(with_details(Grants(kTable, "zerobuswrite")), "zerobuswrite");
  expect_refused(with_details(Grants(kTable, json::array({"zerobuswrite", "drop"}))),
                 "zerobuswrite");
  json twice = Grants(kTable);
  twice.push_back(twice[2]);
  expect_refused(with_details(twice), "more than one TABLE");
  json volume = Grants(kTable);
  volume[0]["object_type"] = "VOLUME";
  expect_refused(with_details(volume), "VOLUME");

  httplib::Params repeated = TokenForm(kTable);
  repeated.emplace("scope", "sql");
  expect_refused(repeated, "scope must be given once");
  httplib::Params resource_alone = TokenForm(kTable);
  resource_alone.erase("authorization_details");
  expect_refused(resource_alone, "needs authorization_details");

  // The fields as JSON rather than as a form.
  httplib::Client client("127.0.0.1", server_->http_port());
  client.set_basic_auth("client", "s3cret");
  json fields = json::object();
  for (const auto &[name, value] : TokenForm(kTable)) fields[name] = value;
  auto as_json = client.Post("/oidc/v1/token", fields.dump(), "application/json");
  ASSERT_TRUE(as_json);
  EXPECT_EQ(as_json->status, 400) << as_json->body;
  EXPECT_NE(as_json->body.find("x-www-form-urlencoded"), std::string::npos) << as_json->body;

  // Every refusal issued nothing, and each was kept with what the client sent.
  EXPECT_EQ(server_->tokens().issued(), 0);
  const auto answered = server_->token_requests();
  ASSERT_EQ(answered.size(), 9u);
  EXPECT_EQ(answered[0].error, "invalid_request");
  EXPECT_EQ(answered[0].request.form.count("authorization_details"), 1u);
  EXPECT_EQ(answered[8].request.content_type, "application/json");
}

TEST_F(WorkspaceTest, StreamsNeedAValidUnexpiredTokenForTheirTable) {
  Start(true);
  const std::string token = RequestToken(TokenForm(kTable)).second["access_token"];
  EXPECT_TRUE(OpenWith("Bearer " + token).ok());

  grpc::Status status = OpenWith("");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(OpenWith("Bearer not-a-token").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(OpenWith(token).error_code(), grpc::StatusCode::UNAUTHENTICATED) << "no Bearer";

  const std::string expired = server_->tokens().Issue(kTable, -1s);
  status = OpenWith("Bearer " + expired);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(status.error_message().find("expired"), std::string::npos);

  const std::string other = RequestToken(TokenForm("main.default.other")).second["access_token"];
  status = OpenWith("Bearer " + other);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(status.error_message().find("main.default.other"), std::string::npos);

  httplib::Params workspace_form = {{"grant_type", "client_credentials"}, {"scope", "all-apis"}};
  const std::string workspace = RequestToken(workspace_form).second["access_token"];
  EXPECT_EQ(OpenWith("Bearer " + workspace).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(server_->table_stats(kTable).streams_opened, 1);
}

TEST_F(WorkspaceTest, WithAuthTheTableApiWantsAWorkspaceToken) {
  Start(true);
  auto anonymous = http_->Get("/api/2.1/unity-catalog/tables/main.default.events");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);

  const std::string scoped = RequestToken(TokenForm(kTable)).second["access_token"];
  auto with_scoped = http_->Get("/api/2.1/unity-catalog/tables/main.default.events",
                                {{"Authorization", "Bearer " + scoped}});
  ASSERT_TRUE(with_scoped);
  EXPECT_EQ(with_scoped->status, 403);

  const std::string workspace =
      RequestToken({{"grant_type", "client_credentials"}, {"scope", "all-apis"}})
          .second["access_token"];
  auto allowed = http_->Get("/api/2.1/unity-catalog/tables/main.default.events",
                            {{"Authorization", "Bearer " + workspace}});
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200);
}

TEST_F(WorkspaceTest, TheTokenEndpointNeverAnswers500WithAnExceptionsText) {
  Start(true);
  // Members of the wrong type, which the endpoint once read without looking and answered with
  // a 500 whose EXCEPTION_WHAT header quoted nlohmann's exception.
  const char *const details[] = {
      R"([{"type":1,"privileges":[],"object_type":"TABLE","object_full_path":"a.b.c"}])",
      R"([{"type":"unity_catalog_privileges","privileges":[],"object_type":2,
           "object_full_path":"a.b.c"}])",
      R"([{"type":"unity_catalog_privileges","privileges":[],"object_type":"TABLE",
           "object_full_path":null}])",
      R"([{"type":"unity_catalog_privileges","privileges":"ALL","object_type":"TABLE",
           "object_full_path":"a.b.c"}])",
      R"({"not":"an array"})",
      R"([{"type":"unity_catalog_privileges","type":"twice"}])",
  };
  httplib::Client client("127.0.0.1", server_->http_port());
  client.set_basic_auth("client", "s3cret");
  for (const char *detail : details) {
    httplib::Params form = TokenForm(kTable);
    form.erase("authorization_details");
    form.emplace("authorization_details", detail);
    auto reply = client.Post("/oidc/v1/token", form);
    ASSERT_TRUE(reply) << detail;
    EXPECT_EQ(reply->status, 400) << detail << " " << reply->body;
    EXPECT_FALSE(reply->has_header("EXCEPTION_WHAT")) << reply->get_header_value("EXCEPTION_WHAT");
    EXPECT_EQ(json::parse(reply->body, nullptr, false)["error"], "invalid_request") << reply->body;
  }
}

TEST_F(WorkspaceTest, WithAuthTheAdminEndpointWantsAWorkspaceToken) {
  Start(true);
  httplib::Client admin("127.0.0.1", server_->admin_port());
  admin.set_read_timeout(5, 0);
  const std::string plan = R"({"refuse_streams": 1000})";
  // Without a token nothing is read, and no fault is set: the endpoint could refuse every
  // stream.
  auto anonymous = admin.Get("/admin/stats");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(json::parse(anonymous->body)["error_code"], "UNAUTHENTICATED");
  auto put = admin.Put("/admin/faults/*", plan, "application/json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 401);
  auto forged = admin.Put("/admin/faults/*", {{"Authorization", "Bearer zbl_forged"}}, plan,
                          "application/json");
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 401);
  const std::string scoped = RequestToken(TokenForm(kTable)).second["access_token"];
  auto with_scoped = admin.Delete("/admin/faults/*", {{"Authorization", "Bearer " + scoped}});
  ASSERT_TRUE(with_scoped);
  EXPECT_EQ(with_scoped->status, 403);
  EXPECT_TRUE(server_->faults().Plans().empty());

  const std::string workspace =
      RequestToken({{"grant_type", "client_credentials"}, {"scope", "all-apis"}})
          .second["access_token"];
  auto allowed = admin.Put("/admin/faults/*", {{"Authorization", "Bearer " + workspace}}, plan,
                           "application/json");
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->status, 200) << allowed->body;
  EXPECT_EQ(server_->faults().Plans().size(), 1u);
}

TEST_F(WorkspaceTest, WithoutAuthTheAdminEndpointAnswersAnyone) {
  Start(false);
  httplib::Client admin("127.0.0.1", server_->admin_port());
  auto stats = admin.Get("/admin/stats");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->status, 200);
}

TEST_F(WorkspaceTest, WithoutAuthAnyClientGetsATokenAndStreamsNeedNone) {
  Start(false);
  auto [status, body] = RequestToken(TokenForm(kTable), "anyone", "anything");
  EXPECT_EQ(status, 200) << body;
  EXPECT_TRUE(OpenWith("").ok());
}

}  // namespace

namespace {

// The command line of process `pid`, its arguments joined by spaces.
std::string CommandLine(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/cmdline");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::replace(text.begin(), text.end(), '\0', ' ');
  return text;
}

TEST(WorkspaceCli, ServeTakesItsClientFromAFileOrTheEnvironmentOutOfItsCommandLine) {
  constexpr char kSecret[] = "f1le-s3cret-9d2e";
  zbtest::TempDir dir;
  const std::string auth_file = dir.path() + "/client.txt";
  std::ofstream(auth_file) << "client:" << kSecret << "\r\n";
  // env(1) sets the variable and execs zerobus in its own process, whose argv is then
  // zerobus's own.
  const std::vector<std::vector<std::string>> commands = {
      {ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--null-sink", "--auth-file", auth_file},
      {"/usr/bin/env", std::string("ZEROBUS_AUTH=client:") + kSecret, ZEROBUS_CLI, "serve",
       "--listen", "127.0.0.1:0", "--null-sink"},
  };
  for (const std::vector<std::string> &command : commands) {
    zbtest::Serve serve(command);
    const int port = serve.port("http");
    ASSERT_GT(port, 0) << command[0];
    const std::string command_line = CommandLine(serve.child().pid());
    EXPECT_NE(command_line.find("serve"), std::string::npos) << command_line;
    EXPECT_EQ(command_line.find(kSecret), std::string::npos) << command_line;

    httplib::Client client("127.0.0.1", port);
    client.set_basic_auth("client", kSecret);
    auto reply = client.Post("/oidc/v1/token", TokenForm(kTable));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200) << reply->body;
    client.set_basic_auth("client", "wrong");
    reply = client.Post("/oidc/v1/token", TokenForm(kTable));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 401) << reply->body;
  }

  // Two sources are a mistake; a malformed value is refused without being quoted.
  zbtest::Child both({ZEROBUS_CLI, "serve", "--auth", "client:x", "--auth-file", auth_file});
  EXPECT_EQ(both.Wait(10s), 2);
  EXPECT_NE(both.Stderr().find("one of --auth and --auth-file"), std::string::npos);
  zbtest::Child malformed({"/usr/bin/env", "ZEROBUS_AUTH=n0-c0l0n-s3cret", ZEROBUS_CLI, "serve"});
  EXPECT_EQ(malformed.Wait(10s), 2);
  const std::string error = malformed.Stderr();
  EXPECT_NE(error.find("$ZEROBUS_AUTH wants CLIENT_ID:SECRET"), std::string::npos) << error;
  EXPECT_EQ(error.find("n0-c0l0n-s3cret"), std::string::npos) << error;
}

TEST(WorkspaceCli, ServeWithAuthAnnouncesTheWorkspaceAndDemandsItsTokens) {
  zbtest::Serve serve({ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--null-sink", "--table",
                       "main.default.events (id BIGINT)", "--auth", "client:s3cret",
                       "--token-lifetime", "10m"});
  const int port = serve.port("grpc");
  ASSERT_GT(port, 0);
  ASSERT_GT(serve.port("http"), 0);
  std::string workspace;
  for (int i = 0; i < 6 && workspace.find("workspace on") == std::string::npos; ++i) {
    workspace = serve.child().ReadLine(10s);
  }
  EXPECT_NE(workspace.find("workspace on " + serve.url("http") + " "), std::string::npos)
      << workspace;
  EXPECT_NE(workspace.find("streams need its tokens"), std::string::npos) << workspace;
  httplib::Client client("127.0.0.1", serve.port("http"));
  client.set_basic_auth("client", "s3cret");
  auto reply = client.Post("/oidc/v1/token", TokenForm(kTable));
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  EXPECT_EQ(json::parse(reply->body)["expires_in"], 600);
  const std::string token = json::parse(reply->body)["access_token"];

  {
    RawStream stream(zbtest::LoopbackChannel(port), 10s, {{"authorization", "Bearer " + token}});
    EXPECT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
  }
  RawStream anonymous(port);
  anonymous.Write(zbtest::CreateJson(kTable));
  EXPECT_EQ(anonymous.Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
