// Softmax and LogSoftmax, across the opset 13 change of axis semantics.
#include <gtest/gtest.h>

#include "nn_test_util.h"

namespace deepx {
namespace {

using nn_test::Attrs;
using nn_test::ExpectError;
using nn_test::ExpectTensor;
using nn_test::In;
using nn_test::RunOp;

TEST(Softmax, ThreeValues) {
  // exp([1,2,3]) / sum, worked out with a calculator.
  ExpectTensor(RunOp("Softmax", {In("x", {3}, {1, 2, 3})}), {3}, {0.09003057f, 0.24472847f, 0.66524096f});
  ExpectTensor(RunOp("LogSoftmax", {In("x", {3}, {1, 2, 3})}), {3}, {-2.40760596f, -1.40760596f, -0.40760596f});
}

TEST(Softmax, LargeInputsDoNotOverflow) {
  ExpectTensor(RunOp("Softmax", {In("x", {1, 2}, {1000, 1001})}), {1, 2}, {0.26894142f, 0.73105858f});
  ExpectTensor(RunOp("LogSoftmax", {In("x", {1, 2}, {1000, 1001})}), {1, 2}, {-1.31326169f, -0.31326169f});
}

TEST(Softmax, Opset13NormalisesAlongOneAxis) {
  // Along axis 0 of [[1,2],[3,4]]: each column is softmax([a, a+2]).
  ExpectTensor(RunOp("Softmax", {In("x", {2, 2}, {1, 2, 3, 4})}, Attrs({{"axis", int64_t{0}}}), 13), {2, 2},
               {0.11920292f, 0.11920292f, 0.88079708f, 0.88079708f});
  // Default axis -1: each row is softmax([a, a+1]).
  ExpectTensor(RunOp("Softmax", {In("x", {2, 2}, {1, 2, 3, 4})}, {}, 13), {2, 2},
               {0.26894142f, 0.73105858f, 0.26894142f, 0.73105858f});
}

TEST(Softmax, BeforeOpset13CoercesTo2d) {
  // axis 0 flattens everything into one row of four.
  ExpectTensor(RunOp("Softmax", {In("x", {2, 2}, {1, 2, 3, 4})}, Attrs({{"axis", int64_t{0}}}), 11), {2, 2},
               {0.0320586f, 0.08714432f, 0.23688282f, 0.64391426f});
  // Default axis 1 on [1,2,2]: the trailing 2x2 is one row.
  ExpectTensor(RunOp("Softmax", {In("x", {1, 2, 2}, {1, 2, 3, 4})}, {}, 11), {1, 2, 2},
               {0.0320586f, 0.08714432f, 0.23688282f, 0.64391426f});
}

TEST(Softmax, RejectsBadAxis) {
  ExpectError("Softmax", {In("x", {2, 2}, {1, 2, 3, 4})}, Attrs({{"axis", int64_t{2}}}), StatusCode::kInvalidArgument,
              "axis 2 is out of range for rank 2");
  ExpectError("LogSoftmax", {In("x", {2, 2}, {1, 2, 3, 4})}, Attrs({{"axis", int64_t{-3}}}),
              StatusCode::kInvalidArgument, "out of range");
  ExpectError("Softmax", {In("x", {}, {1})}, {}, StatusCode::kInvalidArgument, "scalar");
}

}  // namespace
}  // namespace deepx
