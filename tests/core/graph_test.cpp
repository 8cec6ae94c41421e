#include "core/graph.h"

#include <gtest/gtest.h>

namespace deepx {
namespace {

Graph Chain(bool cycle) {
  // a -> n0 -> b -> n1 -> c ; with cycle, n0 also reads c.
  Graph g;
  ValueId a = g.AddValue({.name = "a"});
  ValueId b = g.AddValue({.name = "b"});
  ValueId c = g.AddValue({.name = "c"});
  g.inputs = {a};
  g.outputs = {c};
  Node n1{.name = "n1", .op_type = "Relu", .inputs = {b}, .outputs = {c}};
  Node n0{.name = "n0", .op_type = cycle ? "Add" : "Relu", .inputs = {a}, .outputs = {b}};
  if (cycle) n0.inputs.push_back(c);
  g.nodes = {n1, n0};  // out of order on purpose
  return g;
}

TEST(Graph, TopologicalSortOrdersNodes) {
  Graph g = Chain(false);
  ASSERT_TRUE(g.TopologicalSort().ok());
  EXPECT_EQ(g.nodes[0].name, "n0");
  EXPECT_EQ(g.nodes[1].name, "n1");
}

TEST(Graph, TopologicalSortReportsCycleWithNodeName) {
  Graph g = Chain(true);
  Status s = g.TopologicalSort();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("cycle"), std::string::npos);
  EXPECT_NE(s.message().find("node 'n"), std::string::npos);
}

TEST(Graph, RemoveDeadCodeDropsUnusedNodesAndValues) {
  Graph g = Chain(false);
  ASSERT_TRUE(g.TopologicalSort().ok());
  ValueId extra = g.AddValue({.name = "unused"});
  g.nodes.push_back(Node{.name = "dead", .op_type = "Relu", .inputs = {g.FindValue("a")}, .outputs = {extra}});
  g.RemoveDeadCode();
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.FindValue("unused"), kNoValue);
  EXPECT_EQ(g.value(g.outputs[0]).name, "c");
}

}  // namespace
}  // namespace deepx
